#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Sandbox
import Synchronization

/// The DevTools protocol over Chromium's pipe: commands go out on one
/// descriptor, replies and events come back on the other, each message JSON
/// followed by one NUL byte. A reader thread of its own routes replies to the
/// callers waiting for them by id and keeps the events callers asked for,
/// per session (flattened sessions carry `sessionId` on every message), until
/// they are looked at: events interleave with replies and may come before the
/// reply of the command that caused them.
final class CDPConnection: Sendable {
    /// Decides at arrival which events are kept (method, whole message).
    typealias EventFilter = @Sendable (String, [UInt8]) -> Bool

    private let commandFd: Int32
    private let eventFd: Int32
    private let keep: EventFilter
    private let writeLock = Mutex(())
    private let state = Monitor(State())

    /// Events kept per session; older ones are dropped past this.
    static let eventsPerSession = 512
    /// The key of events that belong to no session (the browser's own).
    static let browserSession = ""

    private struct State {
        var nextID = 1
        var awaited: Set<Int> = []
        var replies: [Int: [UInt8]] = [:]
        var sessions: [String: SessionState] = [CDPConnection.browserSession: SessionState()]
        var sequence = 0
        var closed: String?
    }

    private struct SessionState {
        var events: [CDPEvent] = []
        /// Set when the session's page crashed or was detached.
        var failure: String?
    }

    /// - Parameters:
    ///   - commandFd: where commands are written (Chromium's fd 3).
    ///   - eventFd: where Chromium's messages are read (its fd 4).
    init(commandFd: Int32, eventFd: Int32, keep: @escaping EventFilter) {
        self.commandFd = commandFd
        self.eventFd = eventFd
        self.keep = keep
    }

    deinit {
        Glibc.close(commandFd)
        Glibc.close(eventFd)
    }

    /// Starts the reader thread; false when no thread could be made.
    func startReading() -> Bool {
        DetachedThread.start { [self] in readLoop() }
    }

    /// Fails every waiting and later command: the browser is gone.
    func close(_ reason: String) {
        state.update { s in
            if s.closed == nil { s.closed = reason }
        }
    }

    var closedReason: String? { state.withLock { $0.closed } }

    /// The sequence number of the last event so far: wait for events after it.
    var sequence: Int { state.withLock { $0.sequence } }

    /// Keeps the events of `session` from now on, and fails its commands if its page crashes.
    func register(session: String) {
        state.update { $0.sessions[session] = SessionState() }
    }

    func forget(session: String) {
        state.update { _ = $0.sessions.removeValue(forKey: session) }
    }

    // MARK: commands

    /// Sends a command and waits for its result, decoded as `Result`.
    func call<Params: Encodable, Result: Decodable>(_ method: String, _ params: Params, session: String? = nil,
                                                   as type: Result.Type, deadlineMs: Int64,
                                                   cancellation: JailCancellation? = nil) throws(CDPFailure) -> Result {
        let reply = try send(method, params, session: session, deadlineMs: deadlineMs, cancellation: cancellation)
        return try CDPJSON.decode(CDPReply<Result>.self, from: reply).result
    }

    /// Sends a command whose result does not matter and waits until it is done.
    func call<Params: Encodable>(_ method: String, _ params: Params, session: String? = nil, deadlineMs: Int64,
                                 cancellation: JailCancellation? = nil) throws(CDPFailure) {
        _ = try send(method, params, session: session, deadlineMs: deadlineMs, cancellation: cancellation)
    }

    /// Sends a command without waiting for its reply (which is dropped).
    func post<Params: Encodable>(_ method: String, _ params: Params, session: String? = nil) {
        let id = state.withLock { s -> Int in
            defer { s.nextID += 1 }
            return s.nextID
        }
        try? write(CDPCommand(id: id, method: method, params: params, sessionId: session))
    }

    /// The whole reply message of a command.
    private func send<Params: Encodable>(_ method: String, _ params: Params, session: String?, deadlineMs: Int64,
                                         cancellation: JailCancellation?) throws(CDPFailure) -> [UInt8] {
        let id = try state.withLock { s throws(CDPFailure) -> Int in
            if let reason = s.closed { throw CDPFailure.closed(reason) }
            defer { s.nextID += 1 }
            s.awaited.insert(s.nextID)
            return s.nextID
        }
        do {
            try write(CDPCommand(id: id, method: method, params: params, sessionId: session))
        } catch {
            _ = state.withLock { $0.awaited.remove(id) }
            throw error
        }
        let outcome = try waitFor(deadlineMs: deadlineMs, cancellation: cancellation) { s -> Result<[UInt8], CDPFailure>? in
            if let reply = s.replies.removeValue(forKey: id) { return .success(reply) }
            if let reason = s.closed { return .failure(.closed(reason)) }
            if let session, let failure = s.sessions[session]?.failure {
                return .failure(.crashed(failure))
            }
            return nil
        } onGiveUp: { s in
            s.awaited.remove(id)
            s.replies[id] = nil
        }
        let reply = try outcome.get()
        let envelope = try CDPJSON.decode(CDPEnvelope.self, from: reply)
        if let error = envelope.error {
            throw CDPFailure.remote(code: error.code, message: error.message + (error.data.map { ": \($0)" } ?? ""))
        }
        return reply
    }

    private func write<Params: Encodable>(_ command: CDPCommand<Params>) throws(CDPFailure) {
        var bytes = try CDPJSON.encode(command)
        bytes.append(0)
        let failed = writeLock.withLock { _ in FileIO.writeAll(commandFd, bytes) }
        if let err = failed { throw CDPFailure.closed("writing to the browser failed: \(FileIO.errorText(err))") }
    }

    // MARK: events

    /// Waits for an event of `session` (nil: the browser's own) that came
    /// after `sequence` and that `matches` accepts.
    func waitForEvent(session: String?, after sequence: Int, deadlineMs: Int64, cancellation: JailCancellation? = nil,
                      matching matches: (CDPEvent) -> Bool) throws(CDPFailure) -> CDPEvent {
        let key = session ?? Self.browserSession
        let outcome = try waitFor(deadlineMs: deadlineMs, cancellation: cancellation) { s -> Result<CDPEvent, CDPFailure>? in
            if let found = s.sessions[key]?.events.first(where: { $0.sequence > sequence && matches($0) }) {
                return .success(found)
            }
            if let reason = s.closed { return .failure(.closed(reason)) }
            if let failure = s.sessions[key]?.failure { return .failure(.crashed(failure)) }
            return nil
        } onGiveUp: { _ in }
        return try outcome.get()
    }

    /// Waits in slices, so that a cancelled call stops waiting within 100 ms.
    private func waitFor<T>(deadlineMs: Int64, cancellation: JailCancellation?,
                            _ body: (inout State) -> Result<T, CDPFailure>?,
                            onGiveUp: (inout State) -> Void) throws(CDPFailure) -> Result<T, CDPFailure> {
        while true {
            let slice = min(deadlineMs, MonotonicClock.nowMs() + 100)
            if let outcome = state.wait(untilMs: slice, body) { return outcome }
            let cancelled = cancellation?.isCancelled == true
            if cancelled || MonotonicClock.nowMs() >= deadlineMs {
                state.withLock(onGiveUp)
                throw cancelled ? CDPFailure.cancelled : CDPFailure.timedOut
            }
        }
    }

    // MARK: the reader

    private func readLoop() {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256 << 10)
        // Where the next message starts, and how far the search for its NUL has got.
        var start = 0
        var scanned = 0
        var reason = "the browser closed its pipe"
        while true {
            let n = chunk.withUnsafeMutableBytes { read(eventFd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { reason = "reading from the browser failed: \(FileIO.errorText(errno))" }
            if n <= 0 { break }
            buffer.append(contentsOf: chunk[0..<n])
            while let end = buffer[scanned...].firstIndex(of: 0) {
                handle(Array(buffer[start..<end]))
                start = end + 1
                scanned = start
            }
            scanned = buffer.count
            if start > 0 && start >= buffer.count / 2 {
                buffer.removeFirst(start)
                scanned -= start
                start = 0
            }
        }
        close(reason)
    }

    private func handle(_ message: [UInt8]) {
        guard let envelope = try? JSONDecoder().decode(CDPEnvelope.self, from: Data(message)) else {
            Log.line("browser: ignoring a message that is not JSON (\(message.count) bytes)")
            return
        }
        if let id = envelope.id {
            state.update { s in
                if s.awaited.remove(id) != nil { s.replies[id] = message }
            }
            return
        }
        guard let method = envelope.method else { return }
        let session = envelope.sessionId ?? Self.browserSession
        switch method {
        case "Inspector.targetCrashed":
            fail(session, "the page's renderer crashed")
        case "Target.detachedFromTarget":
            let detached = (try? JSONDecoder().decode(CDPEventParams<Detached>.self, from: Data(message)))?.params.sessionId
            if let detached { fail(detached, "the page was closed") }
        case "Page.javascriptDialogOpening":
            // alert(), confirm() and prompt() would hold the page until answered.
            post("Page.handleJavaScriptDialog", DialogAnswer(accept: false), session: envelope.sessionId)
        default:
            break
        }
        guard keep(method, message) else { return }
        state.update { s in
            guard s.sessions[session] != nil else { return }
            s.sequence += 1
            s.sessions[session]?.events.append(CDPEvent(sequence: s.sequence, method: method, sessionId: envelope.sessionId,
                                                        raw: message))
            if let count = s.sessions[session]?.events.count, count > Self.eventsPerSession {
                s.sessions[session]?.events.removeFirst(count - Self.eventsPerSession)
            }
        }
    }

    private func fail(_ session: String, _ why: String) {
        state.update { s in
            if s.sessions[session] != nil, s.sessions[session]?.failure == nil { s.sessions[session]?.failure = why }
        }
    }

    private struct Detached: Decodable { var sessionId: String }
    private struct DialogAnswer: Encodable { var accept: Bool }
}
