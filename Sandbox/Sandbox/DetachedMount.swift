import CSandbox
#if canImport(Glibc)
import Glibc
#endif

/// A filesystem image mounted in no mount namespace: on a loop device that
/// detaches itself when unused, made into a detached mount with the mount API.
/// Give `fd` to a jail (`JailConfig.attachedMounts`) and close it once the
/// jail runs: the jail's namespace then holds the only reference, so nothing
/// stays mounted or attached after the jail ends, even if the caller is killed.
public final class DetachedMount: Sendable {
    public let fd: Int32
    /// The loop device the image went on (for messages).
    public let device: String

    /// Root only (CAP_SYS_ADMIN in the initial user namespace).
    /// - Parameter options: filesystem options without a value (fsconfig flags).
    public init(image: String, type: String = "ext4", options: [String] = []) throws(SandboxError) {
        var name = [CChar](repeating: 0, count: 64)
        let loop = wd_loop_attach(image, &name, name.count)
        guard loop >= 0 else { throw SandboxError.system("cannot put \(image) on a loop device", errno: -loop) }
        device = String(cString: name)
        var error = [CChar](repeating: 0, count: 512)
        // Nothing of the image runs as set-id or is a device node to the jail.
        let attributes: UInt32 = 0x2 | 0x4 // MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV
        let arena = CArena()
        let flags = arena.stringArray(options)
        let mount = wd_fsmount(type, device, UnsafePointer(flags), options.count, attributes, &error, error.count)
        withExtendedLifetime(arena) {}
        // The filesystem holds the loop device now; without it, closing ours detaches it.
        close(loop)
        guard mount >= 0 else {
            throw SandboxError.system("cannot mount \(image) (\(type) on \(device)): \(String(cString: error))", errno: -mount)
        }
        fd = mount
    }

    deinit { close(fd) }

    /// What `warden doctor` reports: can this process make detached mounts of images?
    public static func availability() -> (loopDevices: Bool, mountAPI: Bool) {
        let control = open("/dev/loop-control", O_RDWR | O_CLOEXEC)
        if control >= 0 { close(control) }
        var error = [CChar](repeating: 0, count: 128)
        // An fs context without a source fails at "create", after fsopen itself worked.
        let probe = wd_fsmount("ext4", "", nil, 0, 0, &error, error.count)
        if probe >= 0 { close(probe) }
        let fsopenWorked = probe >= 0 || !String(cString: error).hasPrefix("fsopen")
        return (control >= 0, fsopenWorked)
    }
}
