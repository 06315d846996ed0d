/// `print(...)`, compiled as OPA compiles it: `print(a, b)` becomes
/// `internal.print([{x | x := a}, {y | y := b}])`. Each operand turns into the set of its
/// values, so an undefined operand is an empty set (printed `<undefined>`) instead of making
/// the whole statement undefined, and the call itself is always true.
extension Environment {
    /// True when `fn` names the print statement rather than a user function or local.
    func isPrint(_ fn: Term, _ scope: Scope) -> Bool {
        guard fn.dottedName == "print", scope.lookup("print") == nil, !ctx.ruleNames.contains("print") else { return false }
        return imports["print"] == nil
    }

    func compilePrint(_ operands: [Term], _ scope: Scope, at loc: SourceLocation) throws -> Term {
        guard let target = compiler.builtins["internal.print"] else {
            throw PolicyError("rego_type_error", "undefined function print", at: loc)
        }
        let sets = try operands.enumerated().map { i, operand -> Term in
            let element = Term.variable("_$print\(i)", operand.location)
            let body = [Expr(kind: .assign(element, operand), location: operand.location)]
            return try compileTerm(.setComprehension(element, body, operand.location), scope)
        }
        return .resolvedCall(.builtin(target), [.array(sets, loc)], loc)
    }
}
