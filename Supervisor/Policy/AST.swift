/// Rego syntax trees. The parser builds them; the compiler resolves names (turning
/// variables into frame slots) and reorders bodies for safety; the evaluator walks them.
///
/// Only the cases that contain a term directly are `indirect`: constants, variables and
/// collections sit in the enum itself, so the evaluator reads them out of term arrays
/// without reference counting a box each time.
enum Term: Sendable {
    /// A constant value (scalar, or a composite made only of constants).
    case value(Value, SourceLocation)
    /// A variable before compilation; after it, only the roots `data` and `input` stay names.
    case variable(String, SourceLocation)
    /// A variable resolved to a slot of its frame.
    case local(Int, String, SourceLocation)
    /// `head.a[b]...`: the head term and the path after it.
    indirect case ref(Term, [Term], SourceLocation)
    case array([Term], SourceLocation)
    case object([(Term, Term)], SourceLocation)
    case set([Term], SourceLocation)
    indirect case arrayComprehension(Term, Body, SourceLocation)
    indirect case setComprehension(Term, Body, SourceLocation)
    indirect case objectComprehension(Term, Term, Body, SourceLocation)
    /// A call before compilation: the function's name as written, and the operands.
    indirect case call(Term, [Term], SourceLocation)
    /// A compiled call of a builtin or a user function.
    indirect case resolvedCall(CallTarget, [Term], SourceLocation)
    /// `$"...{expr}..."`: literal text and terms.
    indirect case template([TemplatePart], SourceLocation)
    /// A ref into `data` resolved to its rule node once the policy is compiled (`DocumentRefs.swift`).
    case documentRef(DocumentRef, SourceLocation)

    var location: SourceLocation {
        switch self {
        case .value(_, let l), .variable(_, let l), .local(_, _, let l), .ref(_, _, let l), .array(_, let l),
             .object(_, let l), .set(_, let l), .arrayComprehension(_, _, let l), .setComprehension(_, _, let l),
             .objectComprehension(_, _, _, let l), .call(_, _, let l), .resolvedCall(_, _, let l), .template(_, let l),
             .documentRef(_, let l):
            return l
        }
    }

    /// The dotted name of a ref made of a variable and constant string keys (`a.b.c`), if it is one.
    var dottedName: String? {
        switch self {
        case .variable(let n, _): return n
        case .ref(let head, let path, _):
            guard case .variable(let n, _) = head else { return nil }
            var parts = [n]
            for p in path {
                guard case .value(.string(let s), _) = p else { return nil }
                parts.append(s)
            }
            return parts.joined(separator: ".")
        default: return nil
        }
    }

    /// The constant value, when the term is one.
    var constant: Value? {
        if case .value(let v, _) = self { return v }
        return nil
    }
}

enum TemplatePart: Sendable {
    case text(String)
    /// An embedded term, with the `with` modifiers written after it.
    case term(Term, [WithModifier])
}

/// What a compiled call invokes.
enum CallTarget: Sendable {
    case builtin(Builtin)
    /// A user function.
    case function(FunctionRef)
}

/// A user function as calls name it, resolved once at compile time so that calls need no
/// path lookups or key strings.
final class FunctionRef: Sendable {
    /// The full path (`["test", "f"]` for `data.test.f`).
    let path: [String]
    let arity: Int
    /// `data.test.f`: the name `with` replaces it by.
    let name: String
    /// The rules' node in the tree the call was compiled against.
    let node: RuleNode?

    init(path: [String], arity: Int, node: RuleNode?) {
        self.path = path
        self.arity = arity
        self.name = "data." + path.joined(separator: ".")
        self.node = node
    }
}

/// `with target as value`.
struct WithModifier: Sendable {
    var target: Term
    var value: Term
    var location: SourceLocation
    /// Set by the compiler.
    var resolved: WithTarget? = nil
    /// Set by the compiler when the value names a function or builtin (`with f as g`).
    var replacement: CallTarget? = nil
}

/// What a `with` replaces.
enum WithTarget: Sendable {
    case input([Value])
    case data([String])
    /// A builtin by name, or a user function by path.
    case function(String)
}

indirect enum ExprKind: Sendable {
    /// A term whose value must be defined and not `false`.
    case term(Term)
    /// `a = b`.
    case unify(Term, Term)
    /// `a := b` (declares the variables of `a`).
    case assign(Term, Term)
    /// `some x, y`.
    case some([Term])
    /// `some k, v in xs` / `some x in xs`.
    case someIn(key: Term?, value: Term, collection: Term)
    /// `every k, v in xs { body }`.
    case every(key: Term?, value: Term, domain: Term, body: Body)
}

struct Expr: Sendable {
    var kind: ExprKind
    var negated: Bool = false
    var withs: [WithModifier] = []
    var location: SourceLocation
}

typealias Body = [Expr]

enum RuleKind: Sendable {
    /// One value (possibly under a key path built from variables: `p[k] := v`).
    case singleValue
    /// `contains`: a set of elements.
    case multiValue
    /// A function with operands.
    case function
}

/// One `else` branch.
struct ElseBranch: Sendable {
    var value: Term
    var body: Body
    var location: SourceLocation
}

struct Rule: Sendable {
    var kind: RuleKind
    var isDefault: Bool
    /// The head ref after the package: first a name, then keys (`a.b[x]` → ["a", "b", x]).
    var head: [Term]
    /// Function operands (patterns).
    var args: [Term]
    /// The value (single-value rules and functions) or the element (multi-value).
    var value: Term
    var body: Body
    var elses: [ElseBranch]
    var location: SourceLocation
    /// True when the head used `:=` (so `else` must as well; kept for messages).
    var assigned: Bool
    /// Slots the compiled body needs.
    var frameSize: Int = 0
}

struct Import: Sendable {
    /// `data.a.b` or `input.x` as a term.
    var path: Term
    var alias: String?
    var location: SourceLocation

    /// The name it binds in the module.
    var name: String? {
        if let alias { return alias }
        switch path {
        case .variable(let n, _): return n
        case .ref(_, let p, _):
            if case .value(.string(let s), _)? = p.last { return s }
            return nil
        default: return nil
        }
    }
}

/// One parsed `.rego` file.
struct Module: Sendable {
    var file: String
    /// `package a.b` → ["a", "b"].
    var package: [String]
    var imports: [Import]
    var rules: [Rule]
    var location: SourceLocation
}
