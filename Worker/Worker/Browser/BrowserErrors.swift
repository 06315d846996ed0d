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

    /// A navigation Chromium gave up on, with its reason (`net::ERR_…`). A
    /// tunnel the egress proxy would not open is its refusal (the supervisor
    /// knows why, and answers with the policy's message).
    static func navigation(_ errorText: String, url: String) -> ErrorReply {
        let shown = url.prefix(200)
        switch errorText {
        case "net::ERR_TUNNEL_CONNECTION_FAILED":
            return ErrorReply(.egressDenied, "the egress proxy refused the connection for \(shown)")
        case "net::ERR_PROXY_CONNECTION_FAILED":
            return ErrorReply(.navigationFailed, "\(shown) could not be loaded: this call has no way to the network (\(errorText))")
        default:
            return ErrorReply(.navigationFailed, "\(shown) could not be loaded: \(errorText)")
        }
    }

    /// Errors of the egress proxy's own (not the site's) that come back as
    /// the main document's response, marked with `X-Warden-Error`.
    static let unreachable: Set<String> = ["connect_failed", "connect_timeout", "unresolvable_host"]

    /// The proxy's answer in place of the page, when the main document is one.
    static func proxyAnswer(_ headers: [String: String], url: String) -> ErrorReply? {
        guard let code = headers.first(where: { $0.key.lowercased() == "x-warden-error" })?.value else { return nil }
        if unreachable.contains(code) {
            return ErrorReply(.navigationFailed, "\(url.prefix(200)) could not be reached through the egress proxy (\(code))")
        }
        return ErrorReply(.egressDenied, "the egress proxy refused \(url.prefix(200)) (\(code))")
    }

    /// The call ended because the browser's cgroup ran out of memory.
    static func memory(limitBytes: Int?) -> ErrorReply {
        let limit = limitBytes.map { " of \($0 >> 20) MiB" } ?? ""
        return ErrorReply(.memoryExceeded,
                          "the page used more memory than the tenant's browser may have\(limit): the kernel killed it; the browser starts again on the next call")
    }
}
