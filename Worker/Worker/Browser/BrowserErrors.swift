import WorkerProtocol

/// What a failed DevTools exchange means to the caller.
enum BrowserErrors {
    /// - Parameters:
    ///   - doing: what the call was doing ("loading the page").
    ///   - timeoutMs: the call's timeout, named in a timeout's message.
    static func reply(_ failure: CDPFailure, while doing: String, timeoutMs: Int?) -> ErrorReply {
        switch failure {
        case .timedOut:
            let limit = timeoutMs.map { " (timeout_ms \($0))" } ?? ""
            return ErrorReply(.timeout, "the call ran out of time while \(doing)\(limit)")
        case .cancelled:
            return ErrorReply(.internal, "the call was cancelled while \(doing)")
        case .closed(let why):
            return ErrorReply(.browserCrashed, "the browser stopped while \(doing): \(why); it starts again on the next call")
        case .crashed(let why):
            return ErrorReply(.browserCrashed, "\(why) while \(doing); the browser starts again on the next call")
        case .remote(_, let message):
            return ErrorReply(.internal, "Chromium failed while \(doing): \(message)")
        case .malformed(let what):
            return ErrorReply(.internal, "the browser's answer could not be read while \(doing): \(what)")
        }
    }

    /// A navigation Chromium gave up on, with its reason (`net::ERR_…`).
    static func navigation(_ errorText: String, url: String) -> ErrorReply {
        ErrorReply(.navigationFailed, "\(url.prefix(200)) could not be loaded: \(errorText)")
    }

    /// The call ended because the browser's cgroup ran out of memory.
    static func memory(limitBytes: Int?) -> ErrorReply {
        let limit = limitBytes.map { " of \($0 >> 20) MiB" } ?? ""
        return ErrorReply(.memoryExceeded,
                          "the page used more memory than the tenant's browser may have\(limit): the kernel killed it; the browser starts again on the next call")
    }
}
