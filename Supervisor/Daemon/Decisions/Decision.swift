import Policy

/// What `data.warden.decision` said about one call.
public struct Decision: Sendable, Equatable {
    public enum Outcome: String, Sendable, Codable {
        case allow
        case deny
        case approvalRequired = "approval_required"
        /// The policy failed or gave no usable answer: treated as a deny.
        case error
    }

    public var outcome: Outcome
    public var reasons: [String]

    init(outcome: Outcome, reasons: [String]) {
        self.outcome = outcome
        self.reasons = reasons
    }

    /// Reads `{"allow": bool, "deny": [messages], "require_approval": bool}`
    /// (and `approval_reasons`, shown to the operator, when the policy gives them);
    /// anything else is an error, and so a deny.
    init(_ value: Value) {
        guard case .object(let object) = value, case .bool(let allow)? = object[string: "allow"] else {
            self.init(outcome: .error, reasons: ["the policy's decision is not an object with a boolean 'allow'"])
            return
        }
        var messages: [String] = []
        switch object[string: "deny"] {
        case .array(let items)?: messages = items.map(Self.message)
        case .set(let items)?: messages = items.map(Self.message)
        default: break
        }
        if !allow || !messages.isEmpty {
            self.init(outcome: .deny, reasons: messages.isEmpty ? ["the policy does not allow this call"] : messages)
        } else if object[string: "require_approval"] == .bool(true) {
            var why: [String] = []
            switch object[string: "approval_reasons"] {
            case .array(let items)?: why = items.map(Self.message)
            case .set(let items)?: why = items.map(Self.message)
            default: break
            }
            self.init(outcome: .approvalRequired, reasons: why.isEmpty ? ["the policy requires a person to approve this call"] : why)
        } else {
            self.init(outcome: .allow, reasons: [])
        }
    }

    static func message(_ value: Value) -> String {
        if case .string(let text) = value { return text }
        return value.jsonText()
    }
}
