import CLibSSH2
import Foundation
import Glibc

/// A serial executor that owns one OS thread.
///
/// libssh2 must be driven by one thread at a time per session, and its calls (and our `poll`)
/// block. Running them on Swift's cooperative pool would stall every other task on this
/// 2-core machine, so each connection actor runs on a thread of its own. Work arriving from
/// other threads writes to `wakeDescriptor`, which the connection polls beside its socket, so a
/// new command never waits behind a poll for another one's output.
final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []   // guarded by `condition`
    private var finished = false          // guarded by `condition`
    private var loopThread: pthread_t?    // set once by the loop thread itself
    let wakeDescriptor = lvs_wake_descriptor()

    init(name: String) {
        let thread = Thread { [self] in self.runLoop() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        let fromElsewhere = loopThread.map { pthread_equal($0, pthread_self()) == 0 } ?? true
        condition.signal()
        condition.unlock()
        if fromElsewhere {
            var one: UInt64 = 1
            _ = write(wakeDescriptor, &one, 8)
        }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// How many jobs are waiting to run on this thread.
    var pendingJobCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count
    }

    /// The CPU time this executor's thread has used so far (zero before it runs).
    var threadCPUTime: Duration {
        condition.lock()
        let thread = loopThread
        condition.unlock()
        var clock = clockid_t()
        var time = timespec()
        guard let thread, pthread_getcpuclockid(thread, &clock) == 0, clock_gettime(clock, &time) == 0 else { return .zero }
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }

    func drainWakeups() {
        var count: UInt64 = 0
        _ = read(wakeDescriptor, &count, 8)
    }

    /// Lets the thread end once every job queued so far has run.
    func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    private func runLoop() {
        condition.lock()
        loopThread = pthread_self()
        condition.unlock()
        while true {
            condition.lock()
            while jobs.isEmpty && !finished { condition.wait() }
            if jobs.isEmpty {   // finished and drained
                condition.unlock()
                close(wakeDescriptor)
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }
}
