/// The library's builtin groups, registered after `coreBuiltins` by `BuiltinRegistry.standard`.
/// Each file of builtins declares one `static let` array in an extension of `BuiltinRegistry`
/// and adds it here.
extension BuiltinRegistry {
    static var libraryGroups: [[Builtin]] {
        [
            stringBuiltins,
            sprintfBuiltins,
            regexBuiltins,
            globBuiltins,
            aggregateBuiltins,
            arrayBuiltins,
            setBuiltins,
            objectBuiltins,
            jsonBuiltins,
            yamlBuiltins,
            jsonPatchBuiltins,
            base64Builtins,
            urlQueryBuiltins,
            unitBuiltins,
            netBuiltins,
            timeBuiltins,
            numberBuiltins,
            typeBuiltins,
            runtimeBuiltins,
        ]
    }
}
