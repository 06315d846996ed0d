import FoundationEssentials
import Sandbox
import WorkerProtocol

/// The RESULT of an exec call. Output that does not fit in one frame is cut
/// further (and marked truncated): a caller who wants all of a large output streams it.
enum ExecResultFrame {
    static func make(_ outcome: JailOutcome, streamed: Bool, callID: UInt32) throws(ErrorReply) -> Frame {
        let r = outcome.result
        var result = ExecResult(status: r.status.rawValue, exitCode: r.exitCode, signal: r.signal,
                                stdoutTruncated: r.stdoutTruncated, stderrTruncated: r.stderrTruncated,
                                cpuMs: Int(r.cpuMs.rounded()), wallMs: Int(r.wallMs.rounded()),
                                memoryPeakBytes: r.memoryPeakBytes, message: r.message, syscall: r.syscall)
        if streamed { return try ToolRunner.resultFrame(result, callID: callID) }

        var stdoutKeep = outcome.stdout.count
        var stderrKeep = outcome.stderr.count
        for _ in 0..<32 {
            let out = OutputText(outcome.stdout.prefix(stdoutKeep), cut: r.stdoutTruncated || stdoutKeep < outcome.stdout.count)
            let err = OutputText(outcome.stderr.prefix(stderrKeep), cut: r.stderrTruncated || stderrKeep < outcome.stderr.count)
            result.stdout = out.text
            result.stdoutEncoding = out.encoding
            result.stderr = err.text
            result.stderrEncoding = err.encoding
            result.stdoutTruncated = r.stdoutTruncated || stdoutKeep < outcome.stdout.count
            result.stderrTruncated = r.stderrTruncated || stderrKeep < outcome.stderr.count
            guard let payload = try? WireJSON.encode(result) else { break }
            if payload.count <= Frame.maxPayload { return Frame(.result, callID: callID, payload: payload) }
            // Shrink the larger stream by the excess, plus a margin for escapes.
            let excess = payload.count - Frame.maxPayload + 1024
            if stdoutKeep >= stderrKeep {
                stdoutKeep = max(0, stdoutKeep - max(excess, stdoutKeep / 4))
            } else {
                stderrKeep = max(0, stderrKeep - max(excess, stderrKeep / 4))
            }
        }
        throw ErrorReply(.internal, "the call's result does not fit in one frame")
    }
}

/// Output as UTF-8 text when it is that, else base64.
struct OutputText {
    var text: String
    var encoding: String

    /// `cut`: the bytes end where a limit cut them, so a character split at the
    /// end is dropped rather than turning the whole output into base64.
    init(_ bytes: ArraySlice<UInt8>, cut: Bool) {
        if let text = String(validating: bytes, as: UTF8.self) {
            self.text = text
            encoding = "utf8"
            return
        }
        if cut {
            for drop in 1...3 where bytes.count >= drop {
                if let text = String(validating: bytes.dropLast(drop), as: UTF8.self) {
                    self.text = text
                    encoding = "utf8"
                    return
                }
            }
        }
        text = Data(bytes).base64EncodedString()
        encoding = "base64"
    }
}
