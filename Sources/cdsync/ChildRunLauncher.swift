import Foundation
import Scheduling

/// Runs each job as a child process `cdsync run SCRIPT --lock JOB ... --json --quiet`, in
/// the jobs file's directory with the job's environment, and reads its JSON report.
final class ChildRunLauncher: RunLauncher, @unchecked Sendable {
    private let executable: String
    private let file: JobsFile
    private let defaultTarget: String
    private let lock = NSLock()
    private var running: Set<pid_t> = []
    /// Set by `interruptAll`; a run that starts afterwards is interrupted at once.
    private var interrupting = false

    init(executable: String, file: JobsFile, defaultTarget: String) {
        self.executable = executable
        self.file = file
        self.defaultTarget = defaultTarget
    }

    func start(_ job: JobDefinition, request: RunRequest, completion: @escaping @Sendable (RunResult) -> Void) {
        let arguments = [executable] + JobCommandLine.runArguments(for: job, in: file, defaultTarget: defaultTarget, json: true)
        var inherited = ProcessInfo.processInfo.environment
        for variable in job.environment { inherited[variable.name] = variable.value }
        let environment = inherited
        // a thread of its own: it blocks until the child exits, which may take hours, and a
        // global queue's few threads are for short work (signal handling among it)
        Thread { [self] in
            let child: Child
            do {
                child = try lock.withLock {
                    let child = try Self.spawn(arguments, environment: environment, directory: file.directory)
                    running.insert(child.pid)
                    if interrupting { kill(child.pid, SIGTERM) }
                    return child
                }
            } catch {
                JSONLineLog.write(SchedulerEvent("launch_failed").with("job", job.name).with("error", "\(error)").line(at: Date()))
                completion(RunResult(exitCode: 1, outcome: "launch_failed"))
                return
            }
            let data = child.output.readDataToEndOfFile()
            try? child.output.close()
            var status: Int32 = 0
            while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
            lock.withLock { _ = running.remove(child.pid) }
            // WIFSIGNALED / WTERMSIG / WEXITSTATUS
            let signal = status & 0x7f
            let code = signal != 0 && signal != 0x7f ? -signal : (status >> 8) & 0xff
            completion(Self.result(code: code, output: String(decoding: data, as: UTF8.self), job: job.name))
        }.start()
    }

    func interruptAll() {
        lock.withLock {
            interrupting = true
            for pid in running { kill(pid, SIGTERM) }
        }
    }

    private struct Child {
        let pid: pid_t
        let output: FileHandle
    }

    private struct SpawnFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts the run with its standard output on a pipe, in `directory`, with every signal
    /// unblocked and SIGINT, SIGTERM, SIGHUP and SIGPIPE at their default actions. (Started
    /// with `Process`, a child inherited the launching thread's blocked signals and the
    /// scheduler's ignored SIGINT/SIGTERM: cdsync sets its own, but a wrapper script given as
    /// `--cdsync` could not be stopped.)
    private static func spawn(_ arguments: [String], environment: [String: String], directory: String) throws -> Child {
        var pipe: [Int32] = [0, 0]
        // close-on-exec: another run started meanwhile must not hold this one's pipe open
        guard Glibc.pipe(&pipe) == 0 else { throw SpawnFailure(description: "cannot make a pipe: \(String(cString: strerror(errno)))") }
        for end in pipe { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        defer { close(pipe[1]) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        posix_spawn_file_actions_adddup2(&actions, pipe[1], STDOUT_FILENO)
        posix_spawn_file_actions_addclose(&actions, pipe[1])
        // glibc 2.29+; not in Swift's Glibc module, so found by name
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else {
            close(pipe[0])
            throw SpawnFailure(description: "this C library cannot start a process in another directory (glibc 2.29 or later needed)")
        }
        typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
        _ = unsafeBitCast(symbol, to: AddChdir.self)(&actions, directory)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for number in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let failed = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard failed == 0 else {
            close(pipe[0])
            throw SpawnFailure(description: "cannot start \(arguments[0]): \(String(cString: strerror(failed)))")
        }
        return Child(pid: pid, output: FileHandle(fileDescriptor: pipe[0], closeOnDealloc: false))
    }

    /// The exit code (negative: killed by that signal) and the report line; other output
    /// lines of the script go to stderr, prefixed with the job's name.
    private static func result(code: Int32, output: String, job: String) -> RunResult {
        var report: String?
        var outcome: String?
        for line in output.split(separator: "\n").map(String.init) {
            if line.hasPrefix("{\"outcome\":"), let parsed = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] {
                report = line
                outcome = parsed["outcome"] as? String
            } else {
                FileHandle.standardError.write(Data("[\(job)] \(line)\n".utf8))
            }
        }
        return RunResult(exitCode: code, reportJSON: report, outcome: outcome)
    }
}
