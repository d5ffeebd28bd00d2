import Imaging
import StrictJSON

/// A decoded `preprocess` request member with its parameters: what a `control[i]` entry or the `preprocess`
/// operation asks for. `decode` is the one reader of those members, so both places accept and refuse the same.
public struct ControlPreprocessing: Equatable, Sendable {
    public let preprocessor: ControlPreprocessor
    public let parameters: PreprocessorParameters

    public init(preprocessor: ControlPreprocessor, parameters: PreprocessorParameters) {
        self.preprocessor = preprocessor
        self.parameters = parameters
    }

    /// The name that means "no preprocessing: the image is the control image as given".
    public static let none = "none"

    /// Reads `preprocess` (default "none") and the parameter members from a request object. Returns nil for
    /// "none", where any parameter member is refused (it would have no effect). Errors name the member with
    /// `fieldPrefix` in front ("control[1]." gives "control[1].low"); members outside
    /// `PreprocessorParameters.memberNames` and `preprocess` are the caller's and are not looked at.
    public static func decode(from members: [String: JSONValue], fieldPrefix: String = "") throws(PreprocessorError) -> ControlPreprocessing? {
        let field = fieldPrefix + "preprocess"
        let name: String
        switch members["preprocess"] {
        case nil: name = none
        case .string(let s)?: name = s
        case let other?: throw .invalidParameter(field: field, reason: "must be a string, got \(other.typeName)")
        }
        if name == none {
            if let given = PreprocessorParameters.memberNames.first(where: { members[$0] != nil }) {
                throw .invalidParameter(field: fieldPrefix + given, reason: "has no effect without a preprocessor (preprocess is \"none\")")
            }
            return nil
        }
        let preprocessor = try ControlPreprocessor.named(name, field: field)
        let parameters = try PreprocessorParameters(decoding: members, for: preprocessor, fieldPrefix: fieldPrefix)
        return ControlPreprocessing(preprocessor: preprocessor, parameters: parameters)
    }

    /// The largest image the run builds for a `width`×`height` input; check it against the job's limits first.
    public func workingSize(width: Int, height: Int) -> ImageSize {
        preprocessor.workingSize(width: width, height: height, parameters: parameters)
    }

    /// The control image at the input's size, 8-bit sRGB with three bands (see `ControlPreprocessor.apply`).
    public func apply(to image: VipsImage) throws -> VipsImage {
        try preprocessor.apply(to: image, parameters: parameters)
    }
}
