// Tensor
