/// `walk`, `opa.runtime`, `internal.print`, `trace` and `http.send`.
///
/// Policies never reach the network in Warden (egress goes through the supervisor's proxy
/// and policy), so `http.send` checks its request as OPA does and then fails; it exists so
/// that tests can replace it with `with http.send as mock`.
extension BuiltinRegistry {
    static let runtimeBuiltins: [Builtin] = [
        Builtin(relation: "walk", arity: 1) { args, _ in
            var out: [Value] = []
            walk(args[0], path: [], into: &out)
            return out
        },
        Builtin("opa.runtime", arity: 0) { _, _ in .emptyObject },
        // `print(a, b)` compiles to `internal.print([{x | x := a}, {x | x := b}])`: each
        // operand is the set of its values, empty when undefined; every combination prints.
        Builtin("internal.print", arity: 1) { args, context in
            var lines: [[String]] = [[]]
            for item in try args.array(0) {
                guard case .set(let values) = item else {
                    throw BuiltinError(.halt(code: "eval_internal_error"), "illegal argument type: \(item.typeName)")
                }
                let texts = values.isEmpty ? ["<undefined>"] : values.map { v -> String in
                    if case .string(let s) = v { return s }
                    return GoFormatter.regoText(v)
                }
                lines = lines.flatMap { prefix in texts.map { prefix + [$0] } }
            }
            context.printed.append(contentsOf: lines.map { $0.joined(separator: " ") })
            return true
        },
        // Tracing is not recorded; the call succeeds as in OPA without an explain mode.
        Builtin("trace", arity: 1) { args, _ in
            _ = try args.string(0)
            return true
        },
        Builtin("http.send", arity: 1) { args, _ in
            let request = try args.object(0)
            let keys = RegoSet(request.keys)
            let invalid = keys.subtracting(httpRequestKeys)
            guard invalid.isEmpty else {
                throw BuiltinError.type("invalid request parameters(s): \(GoFormatter.regoText(.set(invalid)))")
            }
            let missing = RegoSet(["method", "url"]).subtracting(keys)
            guard missing.isEmpty else {
                throw BuiltinError.type("missing required request parameters(s): \(GoFormatter.regoText(.set(missing)))")
            }
            throw BuiltinError.evaluation("network requests are not available to Warden policies")
        },
    ]

    /// Every `[path, value]` pair of a document, the document itself first, then its
    /// members depth first (objects by key, arrays by index, sets in order).
    static func walk(_ value: Value, path: [Value], into out: inout [Value]) {
        out.append(.array([.array(path), value]))
        switch value {
        case .object(let o): for (k, v) in o { walk(v, path: path + [k], into: &out) }
        case .array(let a): for (i, v) in a.enumerated() { walk(v, path: path + [Value(i)], into: &out) }
        case .set(let s): for v in s { walk(v, path: path + [v], into: &out) }
        default: break
        }
    }

    /// The request fields OPA's `http.send` accepts.
    static let httpRequestKeys = RegoSet([
        "method", "url", "body", "enable_redirect", "force_json_decode", "force_yaml_decode", "headers", "raw_body",
        "tls_use_system_certs", "tls_ca_cert", "tls_ca_cert_file", "tls_ca_cert_env_variable", "tls_client_cert",
        "tls_client_cert_file", "tls_client_cert_env_variable", "tls_client_key", "tls_client_key_file",
        "tls_client_key_env_variable", "tls_insecure_skip_verify", "tls_server_name", "timeout", "cache", "force_cache",
        "force_cache_duration_seconds", "raise_error", "caching_mode", "max_retry_attempts", "cache_ignored_headers",
    ].map(Value.string))
}
