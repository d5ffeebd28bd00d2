// A1111 prompt syntax with the CLIP tokenizer: emphasis/BREAK parsing, <lora:…>/<hypernet:…> tags, byte-level
// BPE and 75-token chunking with comma backtracking, for any text. Chunks always have the model's length,
// one weight per id, and embedding placements inside the chunk.
import Models

let tokenizer = try! CLIPTokenizer.standard()  // the shipped table, not input: failing here is a build defect
let chunker = PromptChunker(tokenizer: tokenizer)
let embeddings = EmbeddingVocabulary(names: ["cat": 2, "easynegative": 8, "style-x": 75], tokenizer: tokenizer)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPrompt(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let prompt = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let tags = ExtraNetworkTags(prompt)
    _ = PromptAttention.parse(tags.text)
    _ = tokenizer.encode(prompt, maxLength: 77)
    for chunk in chunker.chunks(tags.text, embeddings: embeddings) {
        precondition(chunk.ids.count == chunker.chunkLength + 2, "chunk of \(chunk.ids.count) ids")
        precondition(chunk.weights.count == chunk.ids.count, "\(chunk.weights.count) weights for \(chunk.ids.count) ids")
        for placement in chunk.embeddings {
            precondition(placement.offset >= 0 && placement.offset + placement.count <= chunk.ids.count,
                         "embedding placement outside its chunk")
        }
    }
    _ = chunker.embeddingNames(in: prompt, embeddings: embeddings)
    return 0
}
