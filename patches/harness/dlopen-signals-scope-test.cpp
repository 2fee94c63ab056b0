// Compiles the dlopen signal repair that a series adds to BunProcess.cpp on its
// own (../test.sh extracts it into dlopen-signals-scope.inc) and checks what it
// does, without Bun: nested scopes leave the repair to the outermost one, an
// ignored SIGPIPE taken by a "library" comes back with Bun's sigaction, and the
// suspend signal's SA_ONSTACK is removed only when REPAIRS_SUSPEND_SIGNAL is 1
// (the bun-v1.3.14 series; main leaves it to oven-sh/WebKit#235).
#include <cassert>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

// What BunProcess.cpp gets from WTF.
#define OS(name) OS_##name
#define OS_WINDOWS 0
#define OS_LINUX 1
#define ASSERT(condition) assert(condition)
static struct {
    int sigThreadSuspendResume = SIGPWR;
} g_wtfConfig;

#include "dlopen-signals-scope.inc"

static void jscHandler(int, siginfo_t*, void*) {}
static void libraryHandler(int) {}

static int failures = 0;
static void check(bool ok, const char* what)
{
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    failures += !ok;
}

int main()
{
    struct sigaction jsc;
    std::memset(&jsc, 0, sizeof(jsc));
    jsc.sa_sigaction = jscHandler;
    jsc.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaddset(&jsc.sa_mask, SIGUSR1);
    sigaction(SIGPWR, &jsc, nullptr);
    struct sigaction ignore;
    std::memset(&ignore, 0, sizeof(ignore));
    ignore.sa_handler = SIG_IGN;
    sigaddset(&ignore.sa_mask, SIGUSR2);
    sigaction(SIGPIPE, &ignore, nullptr);

    {
        DlopenSignalScope outer;
        {
            DlopenSignalScope inner; // a nested load, as from an addon's init
            struct sigaction changed;
            sigaction(SIGPWR, nullptr, &changed);
            changed.sa_flags |= SA_ONSTACK;
            sigaction(SIGPWR, &changed, nullptr);
            std::signal(SIGPIPE, libraryHandler);
            errno = EPERM;
        }
        check(errno == EPERM, "errno is kept");
        struct sigaction now;
        sigaction(SIGPIPE, nullptr, &now);
        check(now.sa_handler == libraryHandler, "the inner scope leaves the repair to the outer one");
    }

    struct sigaction pipe, suspend;
    sigaction(SIGPIPE, nullptr, &pipe);
    sigaction(SIGPWR, nullptr, &suspend);
    check(pipe.sa_handler == SIG_IGN, "SIGPIPE is ignored again");
    check(sigismember(&pipe.sa_mask, SIGUSR2), "with Bun's sa_mask");
    check(suspend.sa_sigaction == jscHandler, "the suspend signal keeps JSC's handler");
    check(((suspend.sa_flags & SA_ONSTACK) == 0) == (REPAIRS_SUSPEND_SIGNAL == 1),
        REPAIRS_SUSPEND_SIGNAL ? "SA_ONSTACK is removed from it" : "its flags are left alone");
    check(sigismember(&suspend.sa_mask, SIGUSR1), "and its sa_mask is JSC's");

    // A load that found SIGPIPE already taken does not put anything back.
    std::signal(SIGPIPE, libraryHandler);
    {
        DlopenSignalScope scope;
    }
    sigaction(SIGPIPE, nullptr, &pipe);
    check(pipe.sa_handler == libraryHandler, "a disposition Bun did not have is not restored");
    return failures != 0;
}
