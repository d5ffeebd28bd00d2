// Sampling: noise, schedules and the one sampling loop.
//
// How a pipeline uses it (txt2img; img2img/inpaint differ only where marked):
//
//     let config = model.networks.scheduler  // decoded from scheduler_config.json when the model loads
//     let choice = try SamplerChoice.parse(sampler: "DPM++ 2M Karras")          // or ("dpmpp_2m", "karras")
//     let plan = try SamplingPlan(noiseSchedule: NoiseSchedule(config: config), sampler: choice.sampler,
//                                 schedule: choice.schedule, steps: 20, strength: nil /* img2img: 0.5 */)
//     let seeds = Seeds.batch(from: Seeds.resolve(request.seed), count: batchSize)   // report seeds[i]
//     let noise = RNGKind.cpu.makeNoise(seeds: seeds)                              // "cuda": Philox
//     // img2img: the VAE's latent_dist.sample() draws from `noise` FIRST (diffusers' order), then
//     //   var x = Sampler.noisedLatent(plan: plan, x0: encoded * scalingFactor, noise: noise)
//     var x = Sampler.initialLatent(plan: plan, shape: [batchSize, 4, h / 8, w / 8], noise: noise)
//     let cfg = ClassifierFreeGuidance(scale: 7.5, rescale: 0)
//     let denoiser = ModelDenoiser(parameterization: Parameterization(config.predictionType)) { xIn, t in
//         // xIn is already scaled by c_in; t is diffusers' timestep for this sigma.
//         let out = unet(concat([xIn, xIn], axis: 0), t, context: [uncond; cond])   // split, then:
//         return try cfg.combine(unconditional: outUncond, conditional: outCond)
//     }
//     // DPM++ SDE: Brownian-tree noise as diffusers/A1111 (per-image seeds, or one seed for the batch):
//     let tree = choice.sampler == .dpmppSDE ? BrownianTreeNoise(plan: plan, shape: x.shape, seeds: seeds) : nil
//     let latents = try Sampler.sample(plan: plan, x: x, noise: noise, eta: 0, brownian: tree,
//         denoise: denoiser.function,
//         hooks: SamplingHooks(isCancelled: { job.cancelled },
//                              onStep: { progress in notify(progress.step, progress.steps, progress.denoised) },
//                              blend: nil /* inpaint: { x, i in mask * x + (1 - mask) * (x0 + noise_i * plan.sigmas[i + 1]) } */))
//     // latents / scalingFactor -> VAE decode.
//
// SDXL refiner hand-off (diffusers' denoising_end / denoising_start): `plan.split(switchAt: 0.8)` gives the base's
// part (t >= cutoff) and the refiner's (the rest), each a plan of its own; run the base's `.leavingVE` and feed its
// result to the refiner's, no noise added (the engine's `GenerationStage`s do this).
//
// Conventions:
// - Latents inside the loop are VE (x = x0 + sigma * eps). `SamplingPlan` carries how diffusers'
//   pipelines enter (init_noise_sigma) and leave (VP output for DDIM/DPM/LCM) so results equal
//   diffusers' latents; see SamplingPlan and SamplerKind.latentsAreVP.
// - Noise draw order equals diffusers': initial noise, then each sampler's step noise from the
//   same generator(s). With several seeds, each image has its own generator (PerSampleNoise).
// - Where diffusers and k-diffusion differ, diffusers wins: Euler-type schedulers start from
//   sqrt(sigma_max^2 + 1) with "leading" spacing, DDIM steps to alphas_cumprod[t - 1000/steps],
//   LMS picks its order by absolute step index in img2img, DPM++ timesteps are rounded for
//   Karras, LCM uses its own boundary condition. DPM++ SDE takes its noise from a
//   BrownianTreeNoise when given one (diffusers' DPMSolverSDEScheduler, A1111), else from the
//   generator.
