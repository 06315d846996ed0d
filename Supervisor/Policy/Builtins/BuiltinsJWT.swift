/// `io.jwt.decode`: a JSON Web Token's header, payload and signature (hex), without
/// verifying it. Nested tokens (`"cty": "JWT"`) are unwrapped; encrypted ones (JWE) are
/// refused. Verification and signing need a cryptography library and are not offered.
extension BuiltinRegistry {
    static let jwtBuiltins: [Builtin] = [
        Builtin("io.jwt.decode", arity: 1) { args, _ in
            var token = try args.string(0)
            // A nested token is the payload of its container; a few levels are plenty.
            for _ in 0..<16 {
                let (header, payloadBytes, signature) = try JWT.decode(token)
                if case .string(let cty)? = header.objectValue?[string: "cty"], cty.uppercased() == "JWT" {
                    guard case .string(let inner) = try JWT.json(payloadBytes, part: "payload") else {
                        throw BuiltinError.evaluation("JWT payload had invalid encoding: nested token is not a string")
                    }
                    token = inner
                    continue
                }
                let payload = try JWT.json(payloadBytes, part: "payload")
                let hex = signature.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
                return .array([header, payload, .string(hex)])
            }
            throw BuiltinError.evaluation("JWT is nested too deeply")
        },
    ]
}

enum JWT {
    /// The decoded header (JSON), payload bytes and signature bytes of a compact token.
    static func decode(_ token: String) throws -> (Value, [UInt8], [UInt8]) {
        guard token.contains(".") else { throw BuiltinError.evaluation("encoded JWT had no period separators") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { throw BuiltinError.evaluation("encoded JWT must have 3 sections, found \(parts.count)") }
        let header = try json(try segment(parts[0], part: "header"), part: "header")
        if header.objectValue?[string: "enc"] != nil {
            throw BuiltinError.evaluation("JWT is a JWE object, which is not supported")
        }
        return (header, try segment(parts[1], part: "payload"), try segment(parts[2], part: "signature"))
    }

    /// Base64url with or without padding, as OPA accepts it.
    static func segment(_ text: String, part: String) throws -> [UInt8] {
        let padding = text.utf8.count % 4 == 0 ? "" : String(repeating: "=", count: 4 - text.utf8.count % 4)
        do { return try Base64.decode(text + padding, url: true, padded: true) } catch let e as BuiltinError {
            throw BuiltinError.evaluation("JWT \(part) had invalid encoding: \(e.message)")
        }
    }

    static func json(_ bytes: [UInt8], part: String) throws -> Value {
        do { return try Value(json: GoText.string(fromBytes: bytes)) } catch {
            throw BuiltinError.evaluation("JWT \(part) had invalid encoding: \(error)")
        }
    }
}
