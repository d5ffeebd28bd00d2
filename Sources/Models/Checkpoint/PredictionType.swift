import Sampling

/// What a UNet predicts, as the one scheduler config (Sampling's) names it.
public typealias PredictionType = SchedulerConfig.PredictionType
