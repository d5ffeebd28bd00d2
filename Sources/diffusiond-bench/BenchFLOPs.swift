import Models

/// Floating-point operations of one network call, counted from the architecture (2 per multiply-add).
///
/// Counted the way PyTorch's `FlopCounterMode` counts (the bench cross-checks against it): convolutions,
/// linears/matmuls and attention's two batched products (QKᵀ and attention·V); bias adds, norms,
/// activations and softmax are left out (they are memory-bound and a few percent of the total). These are
/// the NOMINAL FLOPs of the diffusers graph: where our implementation does less work for the same result
/// (e.g. the VAE's fused upsample+conv, 2.25× fewer multiply-adds in those layers) the achieved rate it
/// implies is an "effective" rate, comparable with PyTorch's and with the sgemm rate.
enum BenchFLOPs {
    static func conv(batch: Int, inChannels: Int, outChannels: Int, kernel: Int, outHeight: Int, outWidth: Int) -> Double {
        2 * Double(batch) * Double(outChannels) * Double(outHeight * outWidth) * Double(inChannels * kernel * kernel)
    }

    static func linear(rows: Int, inFeatures: Int, outFeatures: Int) -> Double {
        2 * Double(rows) * Double(inFeatures) * Double(outFeatures)
    }

    /// QKᵀ plus attention·V for `batch` sequences; `width` = heads × head dim (the head split cancels out).
    static func attention(batch: Int, queries: Int, keys: Int, width: Int) -> Double {
        4 * Double(batch) * Double(queries) * Double(keys) * Double(width)
    }

    /// One UNet2DConditionModel forward (SD 1.x/2.x/XL block types) on latents [batch, in, height, width].
    static func unet(_ c: UNetConfig, batch: Int, height: Int, width: Int, contextLength: Int = 77) throws -> Double {
        let levels = c.blockOutChannels.count
        let channels = c.blockOutChannels
        let layers = try c.layersPerBlock.expanded(to: levels, field: "layers_per_block")
        let crossDims = try c.crossAttentionDim.expanded(to: levels, field: "cross_attention_dim")
        let depths = try c.transformerLayersPerBlock.expanded(to: levels, field: "transformer_layers_per_block")
        let timeDim = c.timeEmbeddingDim ?? channels[0] * 4
        var flops = 0.0
        var (h, w) = (height, width)

        func resnet(_ cin: Int, _ cout: Int) {
            flops += conv(batch: batch, inChannels: cin, outChannels: cout, kernel: 3, outHeight: h, outWidth: w)
            flops += linear(rows: batch, inFeatures: timeDim, outFeatures: cout)
            flops += conv(batch: batch, inChannels: cout, outChannels: cout, kernel: 3, outHeight: h, outWidth: w)
            if cin != cout {
                flops += conv(batch: batch, inChannels: cin, outChannels: cout, kernel: 1, outHeight: h, outWidth: w)
            }
        }
        func transformer(_ ch: Int, crossDim: Int, depth: Int) {
            let tokens = batch * h * w
            flops += 2 * linear(rows: tokens, inFeatures: ch, outFeatures: ch)  // proj_in, proj_out (1×1 conv or linear)
            for _ in 0..<depth {
                flops += 4 * linear(rows: tokens, inFeatures: ch, outFeatures: ch)  // self-attention q, k, v, out
                flops += attention(batch: batch, queries: h * w, keys: h * w, width: ch)
                flops += 2 * linear(rows: tokens, inFeatures: ch, outFeatures: ch)  // cross-attention q, out
                flops += 2 * linear(rows: batch * contextLength, inFeatures: crossDim, outFeatures: ch)  // k, v
                flops += attention(batch: batch, queries: h * w, keys: contextLength, width: ch)
                flops += linear(rows: tokens, inFeatures: ch, outFeatures: 8 * ch)  // GEGLU projection (2 × 4C)
                flops += linear(rows: tokens, inFeatures: 4 * ch, outFeatures: ch)
            }
        }

        flops += conv(batch: batch, inChannels: c.inChannels, outChannels: channels[0], kernel: c.convInKernel,
                      outHeight: h, outWidth: w)
        flops += linear(rows: batch, inFeatures: channels[0], outFeatures: timeDim)
        flops += linear(rows: batch, inFeatures: timeDim, outFeatures: timeDim)
        if c.additionEmbedType == "text_time", let input = c.projectionClassEmbeddingsInputDim {
            // SDXL's add_embedding (linear_1, linear_2) on pooled text + time-id embeddings.
            flops += linear(rows: batch, inFeatures: input, outFeatures: timeDim)
            flops += linear(rows: batch, inFeatures: timeDim, outFeatures: timeDim)
        }

        var output = channels[0]
        for (i, type) in c.downBlockTypes.enumerated() {
            let input = output
            output = channels[i]
            for j in 0..<layers[i] {
                resnet(j == 0 ? input : output, output)
                if type.hasPrefix("CrossAttn") { transformer(output, crossDim: crossDims[i], depth: depths[i]) }
            }
            if i != levels - 1 {
                (h, w) = ((h - 1) / 2 + 1, (w - 1) / 2 + 1)
                flops += conv(batch: batch, inChannels: output, outChannels: output, kernel: 3, outHeight: h, outWidth: w)
            }
        }
        if c.midBlockType != nil {
            let ch = channels[levels - 1]
            resnet(ch, ch)
            transformer(ch, crossDim: crossDims[levels - 1], depth: depths[levels - 1])
            resnet(ch, ch)
        }
        let reversed = Array(channels.reversed())
        output = reversed[0]
        for (i, type) in c.upBlockTypes.enumerated() {
            let previous = output
            output = reversed[i]
            let skipInput = reversed[min(i + 1, levels - 1)]
            let count = layers[levels - 1 - i] + 1
            for j in 0..<count {
                let skip = j == count - 1 ? skipInput : output
                resnet((j == 0 ? previous : output) + skip, output)
                if type.hasPrefix("CrossAttn") {
                    transformer(output, crossDim: crossDims[levels - 1 - i], depth: depths[levels - 1 - i])
                }
            }
            if i != levels - 1 {
                (h, w) = (h * 2, w * 2)
                flops += conv(batch: batch, inChannels: output, outChannels: output, kernel: 3, outHeight: h, outWidth: w)
            }
        }
        flops += conv(batch: batch, inChannels: channels[0], outChannels: c.outChannels, kernel: c.convOutKernel,
                      outHeight: h, outWidth: w)
        return flops
    }

    /// AutoencoderKL.decode on latents [batch, latent, height, width].
    static func vaeDecode(_ c: VAEConfig, batch: Int, height: Int, width: Int) -> Double {
        var flops = 0.0
        var (h, w) = (height, width)
        func resnet(_ cin: Int, _ cout: Int) {
            flops += conv(batch: batch, inChannels: cin, outChannels: cout, kernel: 3, outHeight: h, outWidth: w)
            flops += conv(batch: batch, inChannels: cout, outChannels: cout, kernel: 3, outHeight: h, outWidth: w)
            if cin != cout {
                flops += conv(batch: batch, inChannels: cin, outChannels: cout, kernel: 1, outHeight: h, outWidth: w)
            }
        }
        if c.usePostQuantConv {
            flops += conv(batch: batch, inChannels: c.latentChannels, outChannels: c.latentChannels, kernel: 1,
                          outHeight: h, outWidth: w)
        }
        let reversed = Array(c.blockOutChannels.reversed())
        let top = reversed[0]
        flops += conv(batch: batch, inChannels: c.latentChannels, outChannels: top, kernel: 3, outHeight: h, outWidth: w)
        resnet(top, top)
        if c.midBlockAddAttention {
            flops += 4 * linear(rows: batch * h * w, inFeatures: top, outFeatures: top)
            flops += attention(batch: batch, queries: h * w, keys: h * w, width: top)
        }
        resnet(top, top)
        var output = top
        for i in 0..<reversed.count {
            let previous = output
            output = reversed[i]
            for j in 0...c.layersPerBlock { resnet(j == 0 ? previous : output, output) }
            if i != reversed.count - 1 {
                (h, w) = (h * 2, w * 2)
                flops += conv(batch: batch, inChannels: output, outChannels: output, kernel: 3, outHeight: h, outWidth: w)
            }
        }
        flops += conv(batch: batch, inChannels: output, outChannels: c.outChannels, kernel: 3, outHeight: h, outWidth: w)
        return flops
    }

    /// CLIPTextModel on [batch, length] token ids (all layers; the last hidden state), plus
    /// CLIPTextModelWithProjection's text_projection of the pooled rows when `pooledProjection`.
    static func textEncoder(_ c: CLIPTextConfig, batch: Int, length: Int = 77, pooledProjection: Bool = false) -> Double {
        let projection = pooledProjection
            ? linear(rows: batch, inFeatures: c.hiddenSize, outFeatures: c.projectionDim ?? c.hiddenSize) : 0
        let tokens = batch * length
        let perLayer = 4 * linear(rows: tokens, inFeatures: c.hiddenSize, outFeatures: c.hiddenSize)
            + attention(batch: batch, queries: length, keys: length, width: c.hiddenSize)
            + linear(rows: tokens, inFeatures: c.hiddenSize, outFeatures: c.intermediateSize)
            + linear(rows: tokens, inFeatures: c.intermediateSize, outFeatures: c.hiddenSize)
        return Double(c.numHiddenLayers) * perLayer + projection
    }
}
