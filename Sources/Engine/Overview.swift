// Engine: resident models and the Stable Diffusion pipeline on top of Models (networks) and Sampling (the loop).
//
//     let host = ModelHost(directory: modelsDir, budgetBytes: budget) // the daemon's one host, in every JobContext
//     let model = try host.stableDiffusion(named: "sd15")            // loaded on first use, then shared
//     var request = GenerationRequest(prompt: "a (red:1.2) fox")
//     request.sampler = try SamplerChoice.parse(sampler: "DPM++ 2M Karras")
//     request.seed = 42; request.width = 512; request.height = 512
//     // img2img: request.initImage = try fitted.toTensor(); request.strength = 0.6  (ResizeMode.apply fits images)
//     let result = try StableDiffusionPipeline(model: model).run(request, hooks: .init(
//         isCancelled: { token.isCancelled }, onStep: { step in report(step.step, step.steps) }))
//     // result.decoded[batch: i] -> VipsImage(tensor:); GenerationInfo.parameters(...) -> PNG "parameters".
//
// Guarantees the tests hold (EngineTests): equal to diffusers' StableDiffusionPipeline and
// StableDiffusionImg2ImgPipeline for the same seeds (CPU generator) — latents within 1e-4 relative, 8-bit images
// within 1/255 — with prompt handling that is A1111's (chunks of 75 tokens, emphasis), which reduces to diffusers'
// for plain prompts of at most 75 tokens.
//
// Inpainting/outpainting reuse `StableDiffusionPipeline.Hooks.blend`, which is passed unchanged to the Sampling
// module's single loop (`SamplingHooks.blend`): no second loop exists.
