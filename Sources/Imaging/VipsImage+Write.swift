import AtomicFiles
import Glibc
import VipsShim

extension VipsImage {
    /// Writes the image atomically through `AtomicFile` (temporary in the destination folder, fsynced, renamed
    /// over the destination, folder fsynced), so readers see either nothing or the whole file. Without
    /// `overwrite` an existing destination is refused (also one created meanwhile). The format comes from the
    /// extension. A killed daemon's temporaries for this name are swept first.
    public func write(to path: String, overwrite: Bool, options: EncodeOptions = EncodeOptions()) throws {
        guard let format = ImageFormat(path: path) else {
            throw ImagingError.unsupportedFormat(source: path,
                                                 detail: "the output extension must be .png, .jpg, .jpeg, .webp, .tif or .tiff")
        }
        var info = stat()
        if lstat(path, &info) == 0 {
            if !overwrite { throw ImagingError.outputExists(path: path) }
            if info.st_mode & S_IFMT == S_IFDIR {
                throw ImagingError.writeFailed(path: path, detail: "a directory is in the way")
            }
        }
        let (directory, base) = AtomicFile.split(path)
        StaleTemporaries.sweep(directory: directory, patterns: StaleTemporaries.everyKind)
        do {
            try AtomicFile.write(to: path, overwrite: overwrite) { output in
                try encode(format: format, options: options, output: output, path: path)
            }
        } catch let error as AtomicFileError {
            if error.destinationExists { throw ImagingError.outputExists(path: path) }
            let detail: String
            switch error.step {
            case .create: detail = error.folderMissing ? "the folder \(directory) does not exist" : error.reason
            case .write: detail = error.reason
            case .sync: detail = "fsync: \(error.reason)"
            case .rename: detail = "rename: \(error.reason)"
            }
            throw ImagingError.writeFailed(path: path, detail: detail)
        }
    }

    /// The encoded bytes of the image (for inline base64 output).
    public func encoded(format: ImageFormat, options: EncodeOptions = EncodeOptions()) throws -> [UInt8] {
        if format == .png {
            let international = selfWrittenTextFields
            if !international.isEmpty {
                // libvips would write these wrongly (see selfWrittenTextFields); encode without them, add iTXt.
                let plain = try derive("copy") { vshim_copy($0, $1) }
                for field in international { _ = vips_image_remove(plain.pointer, field.field) }
                let png = try plain.encoded(format: .png, options: options)
                return try PNGTextChunk.inserting(international.map { PNGTextChunk.iTXt(keyword: $0.key, text: $0.value) },
                                                  into: png)
            }
        }
        let prepared = try saveable(for: format)
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        let status = withExtendedLifetime(prepared) {
            vshim_write_to_buffer(prepared.pointer, format.saverSuffix(options), &buffer, &length)
        }
        guard status == 0, let bytes = buffer else {
            throw ImagingError.operationFailed(operation: "encode \(format.rawValue)", detail: VipsErrorBuffer.take())
        }
        defer { g_free(bytes) }
        return Array(UnsafeRawBufferPointer(start: bytes, count: length))
    }

    private func encode(format: ImageFormat, options: EncodeOptions, output: AtomicFile.Output, path: String) throws {
        if format == .png && !selfWrittenTextFields.isEmpty {
            try output.write(try encoded(format: .png, options: options))
            return
        }
        let prepared = try saveable(for: format)
        guard let target = vips_target_new_to_descriptor(output.descriptor) else {
            throw ImagingError.writeFailed(path: path, detail: VipsErrorBuffer.take())
        }
        defer { g_object_unref(target) }
        let status = withExtendedLifetime(prepared) {
            vshim_write_to_target(prepared.pointer, format.saverSuffix(options), target)
        }
        if status != 0 {
            throw ImagingError.writeFailed(path: path, detail: VipsErrorBuffer.take())
        }
    }

    /// JPEG and WebP hold 8-bit samples only: scale 16-bit down properly (libvips would otherwise clip).
    private func saveable(for format: ImageFormat) throws -> VipsImage {
        guard format == .jpeg || format == .webp, self.format == .ushort else { return self }
        let scaled = try derive("scale to 8 bit") { vshim_linear1($0, $1, 1.0 / 257.0, 0, 0) }
        let rounded = try scaled.derive("round") { vshim_round_rint($0, $1) }
        let eight = try rounded.derive("cast") { vshim_cast($0, $1, Int32(VIPS_FORMAT_UCHAR.rawValue)) }
        let space = Interpretation.natural(colorBands: colorBands, format: .uchar)
        return try eight.derive("interpretation") { vshim_copy_interpretation($0, $1, Int32(space.vips.rawValue)) }
    }

    /// PNG text entries libvips cannot write itself (field name, keyword, text), written here as iTXt: text that
    /// is not plain ASCII, empty text (libvips leaves it out) and keywords with a space (libvips cuts them there).
    var selfWrittenTextFields: [(field: String, key: String, value: String)] {
        fieldNames.compactMap { field in
            guard field.hasPrefix(Self.pngTextPrefix) else { return nil }
            let rest = field.dropFirst(Self.pngTextPrefix.count)
            guard let dash = rest.firstIndex(of: "-"), let value = stringField(field) else { return nil }
            let key = String(rest[rest.index(after: dash)...])
            guard value.isEmpty || key.contains(" ") || !value.unicodeScalars.allSatisfy({ $0.isASCII }) else { return nil }
            return (field, key, value)
        }
    }
}
