print("diffusionctl")
