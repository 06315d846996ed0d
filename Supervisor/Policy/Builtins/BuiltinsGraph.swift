/// `graph.reachable` and `graph.reachable_paths` over a graph written as an object from
/// each node to an array or set of its neighbors.
extension BuiltinRegistry {
    static let graphBuiltins: [Builtin] = [
        Builtin("graph.reachable", arity: 2) { args, _ in
            let graph = try args.object(0)
            var queue = try args.arrayOrSet(1, expected: ["set", "array"])
            var reached = RegoSet()
            var next = 0
            // Breadth first; a start node that is not in the graph is not reached.
            while next < queue.count {
                let node = queue[next]
                next += 1
                guard let edges = graph[node], !reached.contains(node) else { continue }
                reached.insert(node)
                for neighbor in neighbors(edges) where !reached.contains(neighbor) { queue.append(neighbor) }
            }
            return .set(reached)
        },
        Builtin("graph.reachable_paths", arity: 2) { args, _ in
            let graph = try args.object(0)
            var paths = RegoSet()
            for node in try args.arrayOrSet(1, expected: ["set", "array"]) {
                guard let edges = graph[node] else { continue }
                let next = neighbors(edges)
                if next.isEmpty { paths.insert(.array([node])); continue }
                for neighbor in next {
                    // Each first step explores with its own record of visited nodes.
                    var reached: Set<Value> = [node]
                    extendPaths(graph, from: neighbor, path: [node], reached: &reached, into: &paths)
                }
            }
            return .set(paths)
        },
    ]

    /// The neighbors listed by an array or set (anything else has none).
    static func neighbors(_ edges: Value) -> [Value] {
        switch edges {
        case .array(let a): return a
        case .set(let s): return s.elements
        default: return []
        }
    }

    /// Depth first: a path ends at a node without neighbors, before a node missing from the
    /// graph, or before a node already visited.
    static func extendPaths(_ graph: RegoObject, from node: Value, path: [Value], reached: inout Set<Value>, into paths: inout RegoSet) {
        guard let edges = graph[node] else { paths.insert(.array(path)); return }
        reached.insert(node)
        let extended = path + [node]
        let next = neighbors(edges)
        if next.isEmpty { paths.insert(.array(extended)); return }
        for neighbor in next {
            if reached.contains(neighbor) {
                paths.insert(.array(extended))
            } else {
                extendPaths(graph, from: neighbor, path: extended, reached: &reached, into: &paths)
            }
        }
    }
}
