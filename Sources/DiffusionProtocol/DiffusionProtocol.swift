// DiffusionProtocol
