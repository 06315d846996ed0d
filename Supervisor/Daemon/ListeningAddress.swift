/// The TCP port the API actually bound (port 0 asks the kernel for one),
/// for callers that must wait until the daemon is reachable.
actor ListeningAddress {
    private var port: Int?
    private var waiters: [CheckedContinuation<Int, Never>] = []

    func set(port: Int) {
        self.port = port
        for waiter in waiters { waiter.resume(returning: port) }
        waiters.removeAll()
    }

    var current: Int? { port }

    func wait() async -> Int {
        if let port { return port }
        return await withCheckedContinuation { waiters.append($0) }
    }
}
