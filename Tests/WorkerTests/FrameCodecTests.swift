import Testing
import WorkerProtocol

@Suite("Frame codec")
struct FrameCodecTests {
    @Test("a frame encodes as length, type, call id, payload")
    func layout() throws {
        let bytes = try Frame(.result, callID: 0x0102_0304, payload: [0xAA, 0xBB]).encoded()
        #expect(bytes == [0, 0, 0, 7, 0x05, 1, 2, 3, 4, 0xAA, 0xBB])
    }

    @Test("frames come out whole whatever the pieces they arrive in")
    func fragmentedReads() throws {
        let frames = [
            Frame(.hello, payload: Array(#"{"protocol":1}"#.utf8)),
            Frame(.stdout, callID: 7, payload: Array(repeating: 0x41, count: 70_000)),
            Frame(.ping),
            Frame(.cancel, callID: UInt32.max),
        ]
        let stream = try frames.flatMap { try $0.encoded() }
        for pieceSize in [1, 2, 3, 5, 9, 4096, stream.count] {
            var decoder = FrameDecoder()
            var out: [Frame] = []
            var offset = 0
            while offset < stream.count {
                let end = min(stream.count, offset + pieceSize)
                decoder.append(Array(stream[offset..<end]))
                while let frame = try decoder.next() { out.append(frame) }
                offset = end
            }
            #expect(out == frames, "pieces of \(pieceSize) bytes")
            #expect(decoder.bufferedCount == 0)
            try decoder.finish()
        }
    }

    @Test("an oversize length is refused as soon as it arrives")
    func oversize() throws {
        var decoder = FrameDecoder()
        let length = UInt32(Frame.maxLength + 1)
        decoder.append([UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)])
        #expect(throws: FrameError.tooLarge(length: Frame.maxLength + 1)) { try decoder.next() }
        #expect(FrameError.tooLarge(length: Frame.maxLength + 1).description.contains("exceeds the maximum"))
    }

    @Test("the largest frame passes; a larger payload cannot be encoded")
    func largest() throws {
        let biggest = Frame(.result, callID: 1, payload: Array(repeating: 0x20, count: Frame.maxPayload))
        var decoder = FrameDecoder()
        decoder.append(try biggest.encoded())
        #expect(try decoder.next() == biggest)
        let tooBig = Frame(.result, callID: 1, payload: Array(repeating: 0x20, count: Frame.maxPayload + 1))
        #expect(throws: FrameError.tooLarge(length: Frame.maxLength + 1)) { try tooBig.encoded() }
    }

    @Test("an unknown type and a length below the header are protocol errors")
    func malformed() throws {
        var unknown = FrameDecoder()
        unknown.append([0, 0, 0, 5, 0x42, 0, 0, 0, 1])
        #expect(throws: FrameError.unknownType(0x42)) { try unknown.next() }
        #expect(FrameError.unknownType(0x42).description.contains("0x42"))

        var short = FrameDecoder()
        short.append([0, 0, 0, 4, 0x01, 0, 0, 0])
        #expect(throws: FrameError.tooShort(length: 4)) { try short.next() }
    }

    @Test("a stream that ends inside a frame is reported")
    func truncated() throws {
        var decoder = FrameDecoder()
        decoder.append(Array(try Frame(.ping).encoded().prefix(6)))
        #expect(try decoder.next() == nil)
        #expect(throws: FrameError.truncated(buffered: 6)) { try decoder.finish() }
    }

    @Test("messages keep the wire names of the protocol")
    func messageNames() throws {
        let text = String(decoding: try WireJSON.encode(ExecResult(status: "ok", exitCode: 0, cpuMs: 3, wallMs: 4)), as: UTF8.self)
        #expect(text.contains(#""exit_code":0"#))
        #expect(text.contains(#""signal":null"#))
        #expect(text.contains(#""memory_peak_bytes":null"#))
        #expect(!text.contains("stdout\""))
        let call = try WireJSON.decode(CallRequest<ExecArgs>.self, from: Array(
            #"{"tool":"exec","request_id":"req_1","args":{"language":"python","code":"print(1)","timeout_ms":5,"memory_mb":64}}"#.utf8))
        #expect(call.args.timeoutMs == 5 && call.args.memoryMb == 64 && call.requestID == "req_1")
        let hello = try WireJSON.decode(Hello.self, from: Array(
            #"{"protocol":1,"tenant":"t_1","max_calls":4,"exec_profile":{"defaultAction":"SCMP_ACT_ERRNO","n":4294967295},"workspace":"/workspace"}"#.utf8))
        #expect(hello.maxCalls == 4)
        #expect(hello.execProfile == .object(["defaultAction": .string("SCMP_ACT_ERRNO"), "n": .integer(4_294_967_295)]))
    }
}
