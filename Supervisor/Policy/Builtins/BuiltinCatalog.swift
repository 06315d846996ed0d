/// The library's builtin groups, registered after `coreBuiltins` by `BuiltinRegistry.standard`.
/// Each file of builtins declares one `static let` array in an extension of `BuiltinRegistry`
/// and adds it here.
extension BuiltinRegistry {
    static var libraryGroups: [[Builtin]] {
        [
            stringBuiltins,
            sprintfBuiltins,
            templateBuiltins,
            regexBuiltins,
            globBuiltins,
            globsMatchBuiltins,
            aggregateBuiltins,
            arrayBuiltins,
            setBuiltins,
            objectBuiltins,
            jsonBuiltins,
            yamlBuiltins,
            jsonPatchBuiltins,
            jsonSchemaBuiltins,
            base64Builtins,
            jwtBuiltins,
            urlQueryBuiltins,
            unitBuiltins,
            netBuiltins,
            timeBuiltins,
            numberBuiltins,
            typeBuiltins,
            runtimeBuiltins,
            graphBuiltins,
            semverBuiltins,
            uuidBuiltins,
        ]
    }
}
