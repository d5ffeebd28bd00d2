/// A pickle interpreter restricted to what a PyTorch state dict needs. It implements a small subset
/// of opcodes (protocols 2-5), resolves only allow-listed globals (see `PickleGlobal`) and never
/// executes anything: "calls" of allowed globals are decoded into data (`PickleValue`). Memo size,
/// stack depth, mark depth, tuple nesting and opcode count are bounded; every length is checked
/// against the remaining input before anything is allocated.
struct RestrictedUnpickler {
    struct Limits {
        var maxMemo = 10_000_000
        var maxStack = 10_000_000
        var maxMarks = 1_000
        var maxTupleDepth = 100
        var maxOpcodes = 200_000_000
    }

    private let path: String
    private let data: UnsafeRawBufferPointer
    private let limits: Limits
    private var pos = 0
    private var opcodeStart = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private var arena = Arena()

    /// Owns every container so they can be emptied iteratively when decoding ends (see PickleValue).
    private struct Arena {
        var tuples: [PickleTuple] = []
        var lists: [PickleList] = []
        var dicts: [PickleDict] = []
        mutating func clear() {
            for t in tuples { t.items.removeAll() }
            for l in lists { l.items.removeAll() }
            for d in dicts { d.entries.removeAll() }
            tuples.removeAll(); lists.removeAll(); dicts.removeAll()
        }
    }

    /// `start`: where the pickle begins in `data` (torch's legacy format is several pickles in a row).
    init(data: UnsafeRawBufferPointer, path: String, limits: Limits = Limits(), start: Int = 0) {
        self.data = data
        self.path = path
        self.limits = limits
        pos = start
    }

    /// The offset after the STOP opcode once `run` has returned.
    var position: Int { pos }

    /// Decodes the pickle and hands the result to `extract` while the containers are alive; whatever
    /// `extract` returns must not hold containers (they are emptied afterwards).
    mutating func run<R>(_ extract: (PickleValue) throws -> R) throws -> R {
        defer {
            stack.removeAll(); memo.removeAll(); arena.clear()
        }
        let result = try interpret()
        return try extract(result)
    }

    // MARK: errors and input

    private func fail(_ detail: String) -> WeightsError {
        .invalidPickle(path: path, offset: opcodeStart, detail: detail)
    }

    private mutating func read(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= data.count - pos else {
            throw fail("needs \(n) bytes but only \(data.count - pos) remain (truncated pickle)")
        }
        defer { pos += n }
        return UnsafeRawBufferPointer(rebasing: data[pos..<(pos + n)])
    }

    private mutating func u8() throws -> Int { Int(try read(1)[0]) }
    private mutating func u16() throws -> Int { let b = try read(2); return Int(b[0]) | Int(b[1]) << 8 }
    private mutating func u32() throws -> UInt32 {
        let b = try read(4)
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }
    private mutating func u64() throws -> UInt64 {
        let b = try read(8)
        var v: UInt64 = 0
        for i in (0..<8).reversed() { v = v << 8 | UInt64(b[i]) }
        return v
    }

    /// A length field checked against the remaining input (so no allocation exceeds the file).
    private mutating func length(_ raw: UInt64) throws -> Int {
        guard raw <= UInt64(data.count - pos) else { throw fail("length \(raw) exceeds the remaining \(data.count - pos) bytes") }
        return Int(raw)
    }

    private mutating func line() throws -> String {
        guard let nl = data[pos...].firstIndex(of: 0x0A) else { throw fail("unterminated line in GLOBAL") }
        let bytes = UnsafeRawBufferPointer(rebasing: data[pos..<nl])
        pos = nl + 1
        guard let s = String(validating: bytes, as: UTF8.self) else { throw fail("GLOBAL name is not UTF-8") }
        return s
    }

    private mutating func utf8(_ n: Int) throws -> String {
        let b = try read(n)
        guard let s = String(validating: b, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
        return s
    }

    // MARK: stack

    private mutating func push(_ v: PickleValue) throws {
        guard stack.count < limits.maxStack else {
            throw WeightsError.pickleLimitExceeded(path: path, offset: opcodeStart, limit: "stack deeper than \(limits.maxStack)")
        }
        stack.append(v)
    }

    private mutating func pop() throws -> PickleValue {
        let floor = marks.last ?? 0
        guard stack.count > floor, let v = stack.popLast() else {
            throw fail("stack underflow")
        }
        return v
    }

    private func top() throws -> PickleValue {
        guard let v = stack.last, stack.count > (marks.last ?? 0) else { throw fail("stack underflow") }
        return v
    }

    /// Pops everything above the most recent MARK, and the mark.
    private mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw fail("no MARK on the stack") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    private mutating func makeTuple(_ items: [PickleValue]) throws -> PickleValue {
        var depth = 1
        for case let .tuple(t) in items { depth = max(depth, t.depth + 1) }
        guard depth <= limits.maxTupleDepth else {
            throw WeightsError.pickleLimitExceeded(path: path, offset: opcodeStart, limit: "tuples nested deeper than \(limits.maxTupleDepth)")
        }
        let t = PickleTuple(items, depth: depth)
        arena.tuples.append(t)
        return .tuple(t)
    }

    private mutating func newList() -> PickleList {
        let l = PickleList()
        arena.lists.append(l)
        return l
    }

    private mutating func newDict() -> PickleDict {
        let d = PickleDict()
        arena.dicts.append(d)
        return d
    }

    private mutating func memoize(_ index: Int) throws {
        guard memo.count < limits.maxMemo || memo[index] != nil else {
            throw WeightsError.pickleLimitExceeded(path: path, offset: opcodeStart, limit: "more than \(limits.maxMemo) memo entries")
        }
        memo[index] = try top()
    }

    private func memoGet(_ index: Int) throws -> PickleValue {
        guard let v = memo[index] else { throw fail("memo slot \(index) read before it was written") }
        return v
    }

    // MARK: interpreter

    private mutating func interpret() throws -> PickleValue {
        var opcodes = 0
        while true {
            opcodes += 1
            guard opcodes <= limits.maxOpcodes else {
                throw WeightsError.pickleLimitExceeded(path: path, offset: pos, limit: "more than \(limits.maxOpcodes) opcodes")
            }
            opcodeStart = pos
            guard pos < data.count else { throw fail("pickle ends without STOP (truncated)") }
            let op = data[pos]
            pos += 1
            switch op {
            case 0x80: // PROTO
                let v = try u8()
                guard v >= 2 && v <= 5 else { throw fail("unsupported pickle protocol \(v)") }
            case 0x95: // FRAME: a length hint only
                _ = try u64()
            case 0x2E: // STOP
                guard marks.isEmpty, stack.count == 1, let result = stack.last else {
                    throw fail("STOP with \(stack.count) values and \(marks.count) marks on the stack")
                }
                return result

            // Constants and scalars.
            case 0x4E: try push(.none)
            case 0x88: try push(.bool(true))
            case 0x89: try push(.bool(false))
            case 0x4B: try push(.int(try u8())) // BININT1
            case 0x4D: try push(.int(try u16())) // BININT2
            case 0x4A: try push(.int(Int(Int32(bitPattern: try u32())))) // BININT
            case 0x8A: // LONG1: little-endian two's complement
                let n = try u8()
                let b = try read(n)
                guard n <= 8 else { throw fail("integer of \(n) bytes does not fit 64 bits") }
                var v: UInt64 = 0
                for i in (0..<n).reversed() { v = v << 8 | UInt64(b[i]) }
                if n > 0, n < 8, b[n - 1] & 0x80 != 0 { v |= ~UInt64(0) << UInt64(8 * n) }
                try push(.int(Int(Int64(bitPattern: v))))
            case 0x47: // BINFLOAT, big-endian
                let b = try read(8)
                var v: UInt64 = 0
                for x in b { v = v << 8 | UInt64(x) }
                try push(.float(Double(bitPattern: v)))

            // Strings and bytes.
            case 0x8C: try push(.string(try utf8(try u8()))) // SHORT_BINUNICODE
            case 0x58: try push(.string(try utf8(try length(UInt64(try u32()))))) // BINUNICODE
            case 0x8D: try push(.string(try utf8(try length(try u64())))) // BINUNICODE8
            case 0x55: // SHORT_BINSTRING (Python 2 str): decoded as latin-1
                try push(.string(String(try read(try u8()).map { Character(Unicode.Scalar($0)) })))
            case 0x54: // BINSTRING
                let n = Int32(bitPattern: try u32())
                guard n >= 0 else { throw fail("negative BINSTRING length") }
                try push(.string(String(try read(try length(UInt64(n))).map { Character(Unicode.Scalar($0)) })))
            case 0x43: try push(.bytes(Array(try read(try u8())))) // SHORT_BINBYTES
            case 0x42: try push(.bytes(Array(try read(try length(UInt64(try u32())))))) // BINBYTES
            case 0x8E: try push(.bytes(Array(try read(try length(try u64()))))) // BINBYTES8

            // Containers.
            case 0x28: // MARK
                guard marks.count < limits.maxMarks else {
                    throw WeightsError.pickleLimitExceeded(path: path, offset: opcodeStart, limit: "more than \(limits.maxMarks) nested MARKs")
                }
                marks.append(stack.count)
            case 0x29: try push(try makeTuple([])) // EMPTY_TUPLE
            case 0x74: try push(try makeTuple(try popMark())) // TUPLE
            case 0x85: let a = try pop(); try push(try makeTuple([a])) // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); try push(try makeTuple([a, b])) // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); try push(try makeTuple([a, b, c])) // TUPLE3
            case 0x5D: try push(.list(newList())) // EMPTY_LIST
            case 0x6C: let l = newList(); l.items = try popMark(); try push(.list(l)) // LIST
            case 0x7D: try push(.dict(newDict())) // EMPTY_DICT
            case 0x64: // DICT
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("DICT with an odd number of items") }
                let d = newDict()
                for i in stride(from: 0, to: items.count, by: 2) { d.entries.append((items[i], items[i + 1])) }
                try push(.dict(d))
            case 0x61: // APPEND
                let v = try pop()
                guard case let .list(l) = try top() else { throw fail("APPEND to a \(try top().typeName)") }
                l.items.append(v)
            case 0x65: // APPENDS
                let items = try popMark()
                guard case let .list(l) = try top() else { throw fail("APPENDS to a \(try top().typeName)") }
                l.items.append(contentsOf: items)
            case 0x73: // SETITEM
                let v = try pop(), k = try pop()
                guard case let .dict(d) = try top() else { throw fail("SETITEM on a \(try top().typeName)") }
                d.entries.append((k, v))
            case 0x75: // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items") }
                guard case let .dict(d) = try top() else { throw fail("SETITEMS on a \(try top().typeName)") }
                for i in stride(from: 0, to: items.count, by: 2) { d.entries.append((items[i], items[i + 1])) }
            case 0x30: _ = try pop() // POP
            case 0x31: _ = try popMark() // POP_MARK

            // Memo.
            case 0x71: try memoize(try u8()) // BINPUT
            case 0x72: try memoize(Int(try u32())) // LONG_BINPUT
            case 0x94: try memoize(memo.count) // MEMOIZE
            case 0x68: try push(try memoGet(try u8())) // BINGET
            case 0x6A: try push(try memoGet(Int(try u32()))) // LONG_BINGET

            // Globals and the operations that use them.
            case 0x63: // GLOBAL "module\nname\n"
                let module = try line()
                let name = try line()
                try push(try resolve(module: module, name: name))
            case 0x93: // STACK_GLOBAL
                let n = try pop(), m = try pop()
                guard case let .string(module) = m, case let .string(name) = n else { throw fail("STACK_GLOBAL needs two strings") }
                try push(try resolve(module: module, name: name))
            case 0x52: // REDUCE
                let args = try pop(), callable = try pop()
                guard case let .global(g) = callable else { throw fail("REDUCE on a \(callable.typeName), not an allowed global") }
                guard case let .tuple(t) = args else { throw fail("REDUCE arguments are a \(args.typeName), not a tuple") }
                try push(try call(g, t.items))
            case 0x81: // NEWOBJ: cls.__new__(cls, *args), only for allowed container classes
                let args = try pop(), cls = try pop()
                guard case let .global(g) = cls, g == .orderedDict || g == .torchSize, case let .tuple(t) = args else {
                    throw fail("NEWOBJ of a \(cls.typeName) is not supported")
                }
                try push(try call(g, t.items))
            case 0x62: // BUILD: only the state of OrderedDict (ignored) and numpy.dtype (byte order)
                let state = try pop()
                let target = try top()
                switch target {
                case .dict:
                    break // an OrderedDict's instance attributes (e.g. state_dict._metadata): not weights
                case var .numpyDType(d):
                    if case let .tuple(t) = state, t.items.count > 1, case let .string(order) = t.items[1] { d.byteOrder = order }
                    stack[stack.count - 1] = .numpyDType(d)
                default:
                    throw fail("BUILD on a \(target.typeName) is not supported")
                }
            case 0x51: // BINPERSID
                let pid = try pop()
                try push(try persistentLoad(pid))
            default:
                throw WeightsError.unsupportedOpcode(path: path, offset: opcodeStart, opcode: op)
            }
        }
    }

    private func resolve(module: String, name: String) throws -> PickleValue {
        guard let g = PickleGlobal(module: module, name: name) else {
            throw WeightsError.forbiddenGlobal(path: path, offset: opcodeStart, name: "\(module).\(name)")
        }
        return .global(g)
    }

    private func int(_ v: PickleValue, _ what: String) throws -> Int {
        guard case let .int(i) = v else { throw fail("\(what) is a \(v.typeName), not an int") }
        return i
    }

    private func ints(_ v: PickleValue, _ what: String) throws -> [Int] {
        guard case let .tuple(t) = v else { throw fail("\(what) is a \(v.typeName), not a tuple") }
        return try t.items.map { try int($0, what) }
    }

    /// The decoded result of "calling" an allowed global: data only, nothing executes.
    private mutating func call(_ g: PickleGlobal, _ args: [PickleValue]) throws -> PickleValue {
        switch g {
        case .orderedDict:
            guard args.isEmpty else { throw fail("OrderedDict with constructor arguments is not supported") }
            return .dict(newDict())
        case .rebuildTensorV2:
            guard args.count >= 4 else { throw fail("_rebuild_tensor_v2 with \(args.count) arguments") }
            guard case let .storage(s) = args[0] else { throw fail("_rebuild_tensor_v2 storage is a \(args[0].typeName)") }
            let shape = try ints(args[2], "tensor size")
            let stride = try ints(args[3], "tensor stride")
            guard shape.count == stride.count else { throw fail("tensor size \(shape) and stride \(stride) differ in rank") }
            return .tensor(TensorRecord(storage: s, offset: try int(args[1], "storage offset"), shape: shape, stride: stride))
        case .rebuildParameter, .rebuildParameterWithState:
            guard let first = args.first, case .tensor = first else { throw fail("\(g.qualifiedName) without a tensor") }
            return first
        case .torchSize:
            guard args.count == 1, case .tuple = args[0] else { throw fail("torch.Size needs one tuple") }
            return args[0]
        case .numpyDType:
            guard let first = args.first, case let .string(code) = first else { throw fail("numpy.dtype needs a type string") }
            return .numpyDType(NumpyDType(code: code))
        case .numpyScalar:
            guard args.count == 2, case let .numpyDType(dt) = args[0] else { throw fail("numpy scalar needs (dtype, bytes)") }
            let raw: [UInt8]
            switch args[1] {
            case let .bytes(b): raw = b
            case let .string(s): raw = s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
            default: throw fail("numpy scalar data is a \(args[1].typeName)")
            }
            return .numpyScalar(value: Self.decodeNumpyScalar(dt, raw))
        case .codecsEncode:
            guard args.count == 2, case let .string(s) = args[0], case let .string(enc) = args[1],
                  ["latin1", "latin-1", "iso-8859-1"].contains(enc.lowercased()) else {
                throw fail("_codecs.encode is only decoded for (str, 'latin1')")
            }
            var out: [UInt8] = []
            for u in s.unicodeScalars {
                guard u.value < 256 else { throw fail("_codecs.encode: character outside latin-1") }
                out.append(UInt8(u.value))
            }
            return .bytes(out)
        case .storageType:
            throw fail("\(g.qualifiedName) may only appear in a persistent id")
        case .inertClass:
            throw fail("\(g.qualifiedName) may appear as a value but is never called")
        }
    }

    /// ('storage', torch.XStorage, key, location, numel) -> a reference to data/<key>; torch's legacy format adds
    /// a sixth item, the view metadata, which must be None (storage views predate torch 1.0).
    private func persistentLoad(_ pid: PickleValue) throws -> PickleValue {
        guard case let .tuple(t) = pid, t.items.count == 5 || t.items.count == 6, case .string("storage") = t.items[0] else {
            throw fail("persistent id is not ('storage', type, key, location, numel)")
        }
        if t.items.count == 6 {
            guard case .none = t.items[5] else { throw fail("legacy storage views (torch < 1.0) are not supported") }
        }
        guard case let .global(.storageType(dtype, _)) = t.items[1] else { throw fail("persistent id storage type is a \(t.items[1].typeName)") }
        guard case let .string(key) = t.items[2] else { throw fail("persistent id key is a \(t.items[2].typeName)") }
        let count = try int(t.items[4], "storage size")
        guard count >= 0 else { throw fail("negative storage size \(count)") }
        return .storage(StorageRef(key: key, dtype: dtype, count: count))
    }

    static func decodeNumpyScalar(_ dt: NumpyDType, _ raw: [UInt8]) -> Double? {
        guard dt.byteOrder != ">" else { return nil }
        func le(_ n: Int) -> UInt64? {
            guard raw.count == n else { return nil }
            var v: UInt64 = 0
            for i in (0..<n).reversed() { v = v << 8 | UInt64(raw[i]) }
            return v
        }
        switch dt.code {
        case "i8": return le(8).map { Double(Int64(bitPattern: $0)) }
        case "i4": return le(4).map { Double(Int32(bitPattern: UInt32($0))) }
        case "i2": return le(2).map { Double(Int16(bitPattern: UInt16($0))) }
        case "i1": return le(1).map { Double(Int8(bitPattern: UInt8($0))) }
        case "u8", "u4", "u2", "u1": return le(Int(String(dt.code.dropFirst())) ?? 0).map { Double($0) }
        case "f8": return le(8).map { Double(bitPattern: $0) }
        case "f4": return le(4).map { Double(Float(bitPattern: UInt32($0))) }
        case "b1": return le(1).map { $0 != 0 ? 1 : 0 }
        default: return nil
        }
    }
}
