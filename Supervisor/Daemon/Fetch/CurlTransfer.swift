import CCurl
import Foundation
import Synchronization

/// One fetch with libcurl, blocking the thread it runs on (a thread of its
/// own, never Swift's pool). curl's proxy is the egress proxy's fetch
/// entrance; every socket curl opens is bound to a local port first, which
/// `expect` announces to the entrance, so each connection is known as this
/// fetch's: fetch takes the proxy's path, decision for decision and byte for byte.
final class CurlTransfer {
    struct Request: Sendable {
        var url: String
        var method: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]?
        var maxBytes: Int
        var maxRedirects: Int
        var timeoutMs: Int
    }

    struct Response: Sendable {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]
        /// The body was longer than `maxBytes`: the rest was not read.
        var truncated: Bool
        var url: String
        var redirects: Int
    }

    enum Failure: Error, Equatable {
        case timeout
        case tooManyRedirects
        case cancelled
        case failed(String)
    }

    private let request: Request
    private let proxyPort: Int
    private let expect: (Int) -> Void
    /// Local ports announced to the entrance, to be withdrawn at the end.
    private(set) var ports: [Int] = []
    private let cancellation: Cancellation
    private var body: [UInt8] = []
    private var headers: [(name: String, value: String)] = []
    private var truncated = false

    private static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    /// Set from another thread to stop the transfer (the client went away).
    final class Cancellation: Sendable {
        private let flag = Atomic(false)
        func cancel() { flag.store(true, ordering: .relaxed) }
        var isCancelled: Bool { flag.load(ordering: .relaxed) }
    }

    init(_ request: Request, proxyPort: Int, cancellation: Cancellation, expect: @escaping (Int) -> Void) {
        self.request = request
        self.proxyPort = proxyPort
        self.cancellation = cancellation
        self.expect = expect
    }

    func perform() -> Result<Response, Failure> {
        guard Self.initialized, let curl = curl_easy_init() else { return .failure(.failed("libcurl could not be initialised")) }
        defer { curl_easy_cleanup(curl) }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        let errorText = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorText.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorText.deallocate() }
        let me = Unmanaged.passUnretained(self).toOpaque()

        _ = wd_curl_set_string(curl, CURLOPT_URL, request.url)
        _ = wd_curl_set_string(curl, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = wd_curl_set_string(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        _ = wd_curl_set_string(curl, CURLOPT_PROXY, "http://127.0.0.1:\(proxyPort)")
        _ = wd_curl_set_long(curl, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1)
        _ = wd_curl_set_long(curl, CURLOPT_NOSIGNAL, 1)
        _ = wd_curl_set_long(curl, CURLOPT_TIMEOUT_MS, request.timeoutMs)
        _ = wd_curl_set_long(curl, CURLOPT_FOLLOWLOCATION, request.maxRedirects > 0 ? 1 : 0)
        _ = wd_curl_set_long(curl, CURLOPT_MAXREDIRS, request.maxRedirects)
        switch request.method {
        case "HEAD": _ = wd_curl_set_long(curl, CURLOPT_NOBODY, 1)
        case "POST":
            let payload = request.body ?? []
            _ = wd_curl_set_offset(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(payload.count))
            // curl copies the body now; an empty one is an empty string.
            if payload.isEmpty {
                _ = wd_curl_set_string(curl, CURLOPT_COPYPOSTFIELDS, "")
            } else {
                _ = payload.withUnsafeBytes { wd_curl_set_pointer(curl, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress)) }
            }
        default: _ = wd_curl_set_long(curl, CURLOPT_HTTPGET, 1)
        }
        for header in request.headers { headerList = curl_slist_append(headerList, "\(header.name): \(header.value)") }
        _ = wd_curl_set_list(curl, CURLOPT_HTTPHEADER, headerList)
        _ = wd_curl_set_pointer(curl, CURLOPT_ERRORBUFFER, errorText)

        _ = wd_curl_set_pointer(curl, CURLOPT_WRITEDATA, me)
        _ = wd_curl_set_write_function(curl, CURLOPT_WRITEFUNCTION) { data, size, count, me in
            guard let me, let data else { return 0 }
            return Unmanaged<CurlTransfer>.fromOpaque(me).takeUnretainedValue().received(data, size * count)
        }
        _ = wd_curl_set_pointer(curl, CURLOPT_HEADERDATA, me)
        _ = wd_curl_set_write_function(curl, CURLOPT_HEADERFUNCTION) { data, size, count, me in
            guard let me, let data else { return 0 }
            Unmanaged<CurlTransfer>.fromOpaque(me).takeUnretainedValue().header(data, size * count)
            return size * count
        }
        _ = wd_curl_set_pointer(curl, CURLOPT_OPENSOCKETDATA, me)
        _ = wd_curl_set_opensocket_function(curl) { me, _, _ in
            guard let me else { return CURL_SOCKET_BAD }
            return Unmanaged<CurlTransfer>.fromOpaque(me).takeUnretainedValue().openSocket()
        }
        _ = wd_curl_set_long(curl, CURLOPT_NOPROGRESS, 0)
        _ = wd_curl_set_pointer(curl, CURLOPT_XFERINFODATA, me)
        _ = wd_curl_set_xferinfo_function(curl) { me, _, _, _, _ in
            guard let me else { return 1 }
            return Unmanaged<CurlTransfer>.fromOpaque(me).takeUnretainedValue().cancellation.isCancelled ? 1 : 0
        }

        let code = curl_easy_perform(curl)
        switch code {
        case CURLE_OK: break
        case CURLE_WRITE_ERROR where truncated: break
        case CURLE_OPERATION_TIMEDOUT: return .failure(.timeout)
        case CURLE_TOO_MANY_REDIRECTS: return .failure(.tooManyRedirects)
        case CURLE_ABORTED_BY_CALLBACK: return .failure(.cancelled)
        default:
            let detail = String(cString: errorText)
            return .failure(.failed(detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail))
        }
        var status = 0, redirects = 0
        var finalURL: UnsafeMutablePointer<CChar>?
        _ = wd_curl_get_long(curl, CURLINFO_RESPONSE_CODE, &status)
        _ = wd_curl_get_long(curl, CURLINFO_REDIRECT_COUNT, &redirects)
        _ = wd_curl_get_string(curl, CURLINFO_EFFECTIVE_URL, &finalURL)
        return .success(Response(status: status, headers: headers, body: body, truncated: truncated,
                                 url: finalURL.map { String(cString: $0) } ?? request.url, redirects: redirects))
    }

    /// Body bytes: kept up to `maxBytes`; past it the transfer stops, marked truncated.
    private func received(_ data: UnsafeMutablePointer<CChar>, _ count: Int) -> Int {
        let room = max(0, request.maxBytes - body.count)
        data.withMemoryRebound(to: UInt8.self, capacity: count) { body += UnsafeBufferPointer(start: $0, count: min(room, count)) }
        if count > room {
            truncated = true
            return 0
        }
        return count
    }

    /// Header lines: a status line starts the next response (a redirect's, or after a 100), the last one stays.
    private func header(_ data: UnsafeMutablePointer<CChar>, _ count: Int) {
        let line = data.withMemoryRebound(to: UInt8.self, capacity: count) {
            String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
        }.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            headers = []
        } else if let colon = line.firstIndex(of: ":") {
            headers.append((String(line[..<colon]).lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
    }

    /// A TCP socket bound to a free port of 127.0.0.1, announced before curl connects it.
    private func openSocket() -> curl_socket_t {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return CURL_SOCKET_BAD }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            return CURL_SOCKET_BAD
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        ports.append(port)
        expect(port)
        return fd
    }
}
