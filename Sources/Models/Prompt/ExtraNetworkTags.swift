/// A1111's extra-network tags in a prompt — `<lora:NAME:WEIGHT>`, `<lora:NAME:te=W1:unet=W2>`, `dyn=N` (also
/// positional `<lora:NAME:TE:UNET:DYN>`, and `lyco` as a synonym), `<hypernet:NAME:WEIGHT>` — taken out of the text
/// before it is tokenized, as A1111 does (`<(\w+):([^>]+)>` of a known type; other `<…>` text stays).
///
/// Parsing never fails: a tag whose arguments are not numbers is kept with the problem, for the operation to
/// refuse it naming the prompt field.
public struct ExtraNetworkTags: Equatable, Sendable {
    /// The prompt with every recognised tag removed (nothing else changed).
    public let text: String
    public let loras: [LoRATag]
    /// Parsed and removed; applying hypernetworks is not implemented here (their loader reads these).
    public let hypernetworks: [HypernetworkTag]

    public struct LoRATag: Equatable, Sendable {
        public var name: String
        /// The text encoders' multiplier and, unless `unetWeight` says otherwise, the UNet's (A1111's rule).
        public var weight: Double
        /// The UNet's multiplier when it differs from `weight`.
        public var unetWeight: Double?
        /// `dyn=N` (A1111's DyLoRA rank limit): only the first N ranks of each module; nil for all.
        public var dyn: Int?
        /// The tag as written (for messages).
        public var source: String
        /// Why the tag cannot be applied (a non-number weight, an unknown key, no name); nil when fine.
        public var problem: String?
    }

    public struct HypernetworkTag: Equatable, Sendable {
        public var name: String
        public var weight: Double
        public var source: String
        public var problem: String?
    }

    public init(_ prompt: String) {
        var text = ""
        var loras: [LoRATag] = []
        var hypernetworks: [HypernetworkTag] = []
        var rest = Substring(prompt)
        while let open = rest.firstIndex(of: "<") {
            text += rest[..<open]
            let afterOpen = rest[rest.index(after: open)...]
            guard let close = afterOpen.firstIndex(of: ">"), let colon = afterOpen[..<close].firstIndex(of: ":") else {
                text += "<"
                rest = afterOpen
                continue
            }
            let kind = afterOpen[..<colon]
            let arguments = String(afterOpen[afterOpen.index(after: colon)..<close])
            let source = "<" + afterOpen[...close]
            let isWord = !kind.isEmpty && kind.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
            switch isWord ? kind.lowercased() : "" {
            case "lora", "lyco":
                loras.append(Self.lora(arguments, source: String(source)))
            case "hypernet":
                hypernetworks.append(Self.hypernetwork(arguments, source: String(source)))
            default:
                text += "<"
                rest = afterOpen
                continue
            }
            rest = afterOpen[afterOpen.index(after: close)...]
        }
        text += rest
        self.text = text
        self.loras = loras
        self.hypernetworks = hypernetworks
    }

    static func lora(_ arguments: String, source: String) -> LoRATag {
        let parts = arguments.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        var tag = LoRATag(name: parts.first ?? "", weight: 1, source: source)
        if tag.name.isEmpty { tag.problem = "the tag names no LoRA" }
        // A1111 (modules/extra_networks.py) splits each argument at "=": a key=value pair is named, anything else
        // positional, in order; so named and positional arguments may be interleaved.
        var positional: [String] = []
        var namedTextEncoder: Double?, namedUNet: Double?, namedDyn: Int?
        for part in parts.dropFirst() {
            if let equals = part.firstIndex(of: "=") {
                let key = part[..<equals].lowercased(), value = String(part[part.index(after: equals)...])
                if key == "dyn" {
                    guard let rank = Self.rank(value) else {
                        tag.problem = tag.problem ?? "dyn=\(value) of LoRA \"\(tag.name)\" is not a rank (a whole number of at least 1)"
                        continue
                    }
                    namedDyn = rank
                    continue
                }
                guard let number = Double(value), number.isFinite else { tag.problem = "\(key)=\(value) is not a number"; continue }
                switch key {
                case "te": namedTextEncoder = number
                case "unet": namedUNet = number
                default: tag.problem = tag.problem ?? "unknown argument \(key)="
                }
            } else {
                positional.append(part)
            }
        }
        // A1111 (extra_networks_lora): te = te= or the first positional or 1; unet = unet= or the second or te;
        // dyn = dyn= or the third (int()) or none. Every positional is converted, so a bad one fails even when a
        // named argument overrides it.
        var weights: [Double] = []
        for part in positional.prefix(2) {
            guard let number = Double(part), number.isFinite else { tag.problem = "weight \"\(part)\" is not a number"; continue }
            weights.append(number)
        }
        var positionalDyn: Int?
        if positional.count > 2 {
            let value = positional[2]
            if let rank = Self.rank(value) {
                positionalDyn = rank
            } else {
                tag.problem = tag.problem ?? "dyn \"\(value)\" (the fourth argument) of LoRA \"\(tag.name)\" is not a rank (a whole number of at least 1)"
            }
        }
        if positional.count > 3 {
            tag.problem = tag.problem ?? "LoRA \"\(tag.name)\" has \(positional.count) positional arguments after its name; at most 3 (te, unet, dyn)"
        }
        let te = namedTextEncoder ?? weights.first ?? 1
        let unet = namedUNet ?? (weights.count > 1 ? weights[1] : te)
        tag.weight = te
        tag.unetWeight = unet == te ? nil : unet
        tag.dyn = namedDyn ?? positionalDyn
        return tag
    }

    /// A DyLoRA rank as A1111 reads it (`int()`: a whole number, no decimal point); a rank of 0 or less would
    /// apply nothing or slice from the end, so it is refused.
    static func rank(_ text: String) -> Int? {
        guard let rank = Int(text), rank >= 1 else { return nil }
        return rank
    }

    static func hypernetwork(_ arguments: String, source: String) -> HypernetworkTag {
        let parts = arguments.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        var tag = HypernetworkTag(name: parts.first ?? "", weight: 1, source: source)
        if parts.count > 1 {
            if let number = Double(parts[1]), number.isFinite { tag.weight = number } else { tag.problem = "weight \"\(parts[1])\" is not a number" }
        }
        if tag.name.isEmpty { tag.problem = "the tag names no hypernetwork" }
        return tag
    }
}

private extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
