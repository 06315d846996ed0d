import WorkerProtocol

/// The parameters and results of the DevTools commands and events Warden uses,
/// named as the protocol names them.
enum CDP {
    struct BrowserContext: Codable { var browserContextId: String }
    struct CreateContext: Encodable {
        var proxyServer: String?
        /// <-loopback> drops the implicit bypass of localhost: nothing goes around the proxy.
        var proxyBypassList: String?
    }
    struct CreateTarget: Encodable {
        var url: String
        var browserContextId: String
    }
    struct Target: Codable { var targetId: String }
    struct Attach: Encodable {
        var targetId: String
        var flatten = true
    }
    struct Session: Decodable { var sessionId: String }
    struct Enabled: Encodable { var enabled: Bool }
    struct DeviceMetrics: Encodable {
        var width: Int
        var height: Int
        var deviceScaleFactor: Double
        var mobile = false
    }

    struct Navigate: Encodable { var url: String }
    struct Navigated: Decodable {
        var frameId: String
        var loaderId: String?
        var errorText: String?
    }
    struct DocumentContent: Encodable {
        var frameId: String
        var html: String
    }
    struct LifecycleEvent: Decodable {
        var frameId: String
        var loaderId: String
        var name: String
    }
    struct ResponseReceived: Decodable {
        var requestId: String
        var loaderId: String
        var type: String?
        var response: Response
    }
    struct Response: Decodable {
        var url: String
        var status: Int
        var headers: [String: String]?
    }

    struct Evaluate: Encodable {
        var expression: String
        var returnByValue = true
        var awaitPromise = true
        var userGesture = true
    }
    struct Evaluated: Decodable {
        var result: RemoteObject
        var exceptionDetails: ExceptionDetails?
    }
    struct RemoteObject: Decodable {
        var type: String
        var subtype: String?
        var value: JSONValue?
        var unserializableValue: String?
        var description: String?
    }
    struct ExceptionDetails: Decodable {
        var text: String
        var exception: RemoteObject?

        /// The thrown error as the page would print it (`TypeError: x is undefined`).
        var message: String { exception?.description ?? exception?.value.map { "\($0)" } ?? text }
    }

    struct LayoutMetrics: Decodable { var cssContentSize: Rect }
    struct Rect: Decodable {
        var width: Double
        var height: Double
    }
    struct Screenshot: Encodable {
        var format = "png"
        var optimizeForSpeed = true
        var clip: Clip?
        var captureBeyondViewport: Bool?
    }
    struct Clip: Encodable {
        var x: Double
        var y: Double
        var width: Double
        var height: Double
        var scale: Double = 1
    }
    struct PrintToPDF: Encodable {
        var landscape: Bool
        var printBackground: Bool
        var paperWidth: Double
        var paperHeight: Double
    }
    /// A screenshot or PDF, base64.
    struct Encoded: Decodable { var data: String }
}
