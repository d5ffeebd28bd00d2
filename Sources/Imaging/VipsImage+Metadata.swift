import VipsShim

extension VipsImage {
    static let pngTextPrefix = "png-comment-"

    /// PNG text chunks (tEXt/zTXt/iTXt) by keyword — e.g. "parameters", A1111's generation settings.
    /// libvips 8.14 exposes chunk N with keyword K as the string field "png-comment-N-K".
    public var textEntries: [String: String] {
        var entries: [String: String] = [:]
        for field in fieldNames where field.hasPrefix(Self.pngTextPrefix) {
            let rest = field.dropFirst(Self.pngTextPrefix.count)
            guard let dash = rest.firstIndex(of: "-") else { continue }
            let key = String(rest[rest.index(after: dash)...])
            if let value = stringField(field) { entries[key] = value }
        }
        return entries
    }

    /// A copy with the text entry `key` set (replacing an existing entry with that keyword). PNG output stores it
    /// as a text chunk (libpng writes zTXt). Keywords are 1–79 printable ASCII characters without leading,
    /// trailing or doubled spaces: PNG's rule, less Latin-1 letters, which libvips reads back as invalid UTF-8.
    public func settingText(_ key: String, _ value: String) throws -> VipsImage {
        guard (1...79).contains(key.utf8.count), key.utf8.allSatisfy({ (32...126).contains($0) }),
              key.first != " ", key.last != " ", !key.contains("  ") else {
            throw ImagingError.invalidArgument("PNG text keyword must be 1-79 printable ASCII characters without leading, trailing or double spaces, got \"\(key)\"")
        }
        // libvips keeps metadata as C strings: a NUL would silently cut the stored text short.
        guard !value.utf8.contains(0) else {
            throw ImagingError.invalidArgument("PNG text \"\(key)\" must not contain a NUL character (U+0000)")
        }
        let copy = try derive("copy") { vshim_copy($0, $1) }
        var index = 0
        var existing: String?
        for field in copy.fieldNames where field.hasPrefix(Self.pngTextPrefix) {
            let rest = field.dropFirst(Self.pngTextPrefix.count)
            guard let dash = rest.firstIndex(of: "-"), let n = Int(rest[..<dash]) else { continue }
            if String(rest[rest.index(after: dash)...]) == key { existing = field }
            index = max(index, n + 1)
        }
        let name = existing ?? "\(Self.pngTextPrefix)\(index)-\(key)"
        vips_image_set_string(copy.pointer, name, value)
        return copy
    }

    /// The embedded ICC profile, if any; kept on save by every writer.
    public var iccProfile: [UInt8]? {
        guard vips_image_get_typeof(pointer, "icc-profile-data") != 0 else { return nil }
        var data: UnsafeRawPointer?
        var length = 0
        guard vips_image_get_blob(pointer, "icc-profile-data", &data, &length) == 0, let bytes = data else {
            _ = VipsErrorBuffer.take()
            return nil
        }
        return Array(UnsafeRawBufferPointer(start: bytes, count: length))
    }

    /// A copy carrying `profile` as its ICC profile (nil removes it). Used to give a tensor-made image the
    /// source's profile back.
    public func settingICCProfile(_ profile: [UInt8]?) throws -> VipsImage {
        let copy = try derive("copy") { vshim_copy($0, $1) }
        guard let profile, !profile.isEmpty else {
            _ = vips_image_remove(copy.pointer, "icc-profile-data")
            return copy
        }
        guard let buffer = g_malloc(gsize(profile.count)) else {
            throw ImagingError.operationFailed(operation: "g_malloc", detail: "out of memory")
        }
        profile.withUnsafeBytes { if let base = $0.baseAddress { buffer.copyMemory(from: base, byteCount: profile.count) } }
        let freeBlob: VipsCallbackFn = { data, _ in g_free(data); return 0 }  // called as (data, area)
        vips_image_set_blob(copy.pointer, "icc-profile-data", freeBlob, buffer, profile.count)
        return copy
    }

    /// Copies the ICC profile and PNG text entries of `other` onto a copy of this image.
    public func withMetadata(from other: VipsImage) throws -> VipsImage {
        var result = try settingICCProfile(other.iccProfile)
        for (key, value) in other.textEntries.sorted(by: { $0.key < $1.key }) {
            result = try result.settingText(key, value)
        }
        return result
    }

    var fieldNames: [String] {
        guard let fields = vips_image_get_fields(pointer) else { return [] }
        defer { g_strfreev(fields) }
        var names: [String] = []
        var index = 0
        while let field = fields[index] {
            names.append(String(cString: field))
            index += 1
        }
        return names
    }

    func stringField(_ name: String) -> String? {
        var value: UnsafePointer<CChar>?
        guard vips_image_get_string(pointer, name, &value) == 0 else {
            _ = VipsErrorBuffer.take()
            return nil
        }
        // libvips hands back no pointer for a field set to the empty string: that is still the text "".
        return value.map { String(cString: $0) } ?? ""
    }
}
