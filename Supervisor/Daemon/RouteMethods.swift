import Hummingbird

/// Hummingbird answers 404 when a path exists but not for the method used.
/// Recording the routes as they are added lets us answer 405 with `Allow`.
struct RouteMethods {
    private var methodsByPath: [String: [HTTPRequest.Method]] = [:]
    private var order: [String] = []

    mutating func record(_ path: String, _ method: HTTPRequest.Method) {
        if methodsByPath[path] == nil { order.append(path) }
        methodsByPath[path, default: []].append(method)
    }

    /// Adds a 405 responder for every common method a recorded path lacks.
    func addMethodNotAllowed<Context: RequestContext>(to router: Router<Context>) {
        let candidates: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]
        for path in order {
            let allowed = methodsByPath[path] ?? []
            for method in candidates where !allowed.contains(method) {
                router.on(RouterPath(path), method: method) { request, _ -> Response in
                    throw APIError.methodNotAllowed(request.method, path: request.uri.path, allowed: allowed)
                }
            }
        }
    }
}
