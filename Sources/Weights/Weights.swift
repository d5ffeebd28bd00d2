// The Weights module: every checkpoint format diffusiond reads, behind one protocol.
//
//   TensorSource            names / shape(of:) / tensor(_:) -> float32 Tensor; tensor(_:shape:) for strict loads
//   SafeTensorsFile         mmap'd .safetensors, header validated like the reference before use;
//                           aligned F32 tensors borrow the mapping (zero copy), F16/BF16/F64 convert exactly
//   ShardedSafeTensors      <name>.safetensors.index.json + shards (diffusers/transformers)
//   TorchCheckpoint         .ckpt/.pt/.pth (torch.save zip) via ZipArchive + RestrictedUnpickler:
//                           only allow-listed globals, nothing executed; state dict chosen as
//                           state_dict > params_ema > params > top level, nested dicts flattened with dots
//   NCNNModel               ncnn .param + .bin (Real-ESRGAN releases); pytorchNamed() gives RRDBNet /
//                           SRVGGNetCompact state-dict names
//   WeightsLoader.open      picks the format from the content
//   PrefixedSource / RenamedSource / CombinedSource   views over other sources
//   SafeTensorsWriter       writes safetensors (F32/F16/BF16), lazily per tensor; convert(source, to:)
//   NameMapping/            LDM single-file <-> diffusers names (owned by the "sdref" helper)
//   Families/               ModelFamily (SD1Family, SD2Family): recognition, architecture, mapping and
//                           conventions per family; ModelFamilies.all is the registry, in detection order
//
// Every failure is a WeightsError naming the file, the tensor/entry/layer and byte offsets. Limits
// (header 100 MB, pickle 256 MB, memo/stack/marks/tuple depth, broadcast views 16M elements, ncnn
// counts) keep hostile files from causing unbounded allocation or deep recursion.
