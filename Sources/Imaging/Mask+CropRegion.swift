extension Mask {
    /// The region processed for "only masked" inpainting: the bounding box of the mask (as 8-bit levels, like
    /// PIL's "L"), padded by `padding` px, then widened or heightened to the processing aspect ratio and shifted
    /// back inside the image — exactly diffusers' `VaeImageProcessor.get_crop_region` (`padding_mask_crop`),
    /// including its clamping when the image is too small for the aspect. Nil for an empty mask.
    public func cropRegion(processingWidth: Int, processingHeight: Int, padding: Int) throws -> PixelRect? {
        guard processingWidth > 0, processingHeight > 0, padding >= 0 else {
            throw ImagingError.invalidArgument("processing size must be positive and padding non-negative, got "
                + "\(processingWidth)x\(processingHeight) padding \(padding)")
        }
        let levels = try picture(bitDepth: 8)
        guard let box = try Mask(unchecked: levels.linear(1, 0).converted(to: .float)).boundingBox() else { return nil }
        let w = width, h = height
        var x1 = max(box.x - padding, 0), y1 = max(box.y - padding, 0)
        var x2 = min(box.maxX + padding, w), y2 = min(box.maxY + padding, h)
        let ratioCrop = Double(x2 - x1) / Double(y2 - y1)
        let ratioProcessing = Double(processingWidth) / Double(processingHeight)
        if ratioCrop > ratioProcessing {
            let desired = Double(x2 - x1) / ratioProcessing
            let diff = Int(desired - Double(y2 - y1))  // int(): toward zero, as Python
            y1 -= diff / 2  // diff >= 0 here, so // and / agree
            y2 += diff - diff / 2
            if y2 >= h { let over = y2 - h; y2 -= over; y1 -= over }
            if y1 < 0 { y2 -= y1; y1 = 0 }
            if y2 >= h { y2 = h }
        } else {
            let desired = Double(y2 - y1) * ratioProcessing
            let diff = Int(desired - Double(x2 - x1))
            x1 -= diff / 2
            x2 += diff - diff / 2
            if x2 >= w { let over = x2 - w; x2 -= over; x1 -= over }
            if x1 < 0 { x2 -= x1; x1 = 0 }
            if x2 >= w { x2 = w }
        }
        return PixelRect(x: x1, y: y1, width: x2 - x1, height: y2 - y1)
    }
}
