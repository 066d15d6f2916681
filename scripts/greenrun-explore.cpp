// greenrun-explore: the loop behind `greenrun --explore N`: runs a command under seeded schedules,
// one seed after another (1, 2, ... N), J at a time, until one fails, and says how to replay it.
//
//   greenrun-explore --runs N [--jobs J] [--timeout-ms T] [--expect-exit C]
//                    [--expect-output REGEX] [--keep-going] [--plain] [--rerun PREFIX]
//                    [--preload LD_PRELOAD] -- PATH ARGV0 [ARGS...]
//
// greenrun has already checked its options and put the GREEN_* variables in the environment;
// each run gets LD_PRELOAD (which this program runs without) and GREEN_SEED.  A run fails when it exits with a status other than
// C (default 0), dies of a signal, ends in a seeded deadlock (the library's status 86), runs
// past T, or, with --expect-output, prints nothing on stdout that REGEX (POSIX extended,
// ^ and $ at line ends) matches.  Under PCT (GREEN_PCT) without GREEN_PCT_STEPS, the first run
// measures how many scheduling steps the command takes (GREEN_STATS), and the later ones use
// that as the estimate their change points are drawn over.  --plain runs the command without
// libgreen (the plain stress baseline of scripts/bugs_table.sh).  PREFIX is greenrun with the
// options that shape the schedule, for the replay line.
//
// Exit status: 0 when no run failed, 1 when one did, 2 for bad usage or a run that could not
// be started.
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

constexpr int kDeadlockStatus = 86;  // hub/chaos.h

struct Options {
    long runs = 0;
    long jobs = 0;
    long timeout_ms = 30000;
    int expect_exit = 0;
    const char* expect_output = nullptr;
    bool keep_going = false;
    bool plain = false;
    std::string rerun = "greenrun";
    const char* preload = nullptr;  // LD_PRELOAD of each run (libgreen first)
    char** command = nullptr;  // PATH, ARGV0, ARGS..., null
};

struct Run {
    long seed;
    pid_t pid;
    int64_t deadline;  // ms, CLOCK_MONOTONIC
    std::string out, err;
};

int64_t now_ms()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

[[noreturn]] void usage(const char* why)
{
    fprintf(stderr, "greenrun-explore: %s\n", why);
    exit(2);
}

long number(const char* text, const char* what)
{
    char* end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno || *end || end == text || n < 0)
        usage((std::string("not a number for ") + what + ": " + text).c_str());
    return n;
}

std::string slurp(const std::string& path)
{
    std::string s;
    if (FILE* f = fopen(path.c_str(), "r")) {
        char buf[4096];
        for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;)
            s.append(buf, n);
        fclose(f);
    }
    return s;
}

// A word as a shell reads it back.
std::string quoted(const std::string& w)
{
    if (!w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789_./:=,+-@%") == std::string::npos)
        return w;
    std::string q = "'";
    for (char c : w)
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// The last lines of text, each indented, for the report.
std::string tail(const std::string& text, int lines)
{
    size_t start = text.size();
    for (int n = 0; start > 0 && n <= lines;)
        if (text[--start] == '\n' && start + 1 < text.size())
            n++;
    std::string t = text.substr(start ? start + 1 : 0);
    std::string out;
    for (size_t p = 0; p < t.size();) {
        size_t e = t.find('\n', p);
        out += "    " + t.substr(p, e == std::string::npos ? std::string::npos : e - p) + "\n";
        p = e == std::string::npos ? t.size() : e + 1;
    }
    return out;
}

class Explorer {
public:
    explicit Explorer(const Options& o) : o_(o)
    {
        const char* tmp = getenv("TMPDIR");
        std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/greenrun-explore.XXXXXX";
        std::vector<char> buf(templ.begin(), templ.end());
        buf.push_back('\0');
        if (!mkdtemp(buf.data()))
            usage(("cannot make a scratch directory " + templ + ": " + strerror(errno)).c_str());
        dir_ = buf.data();
        if (o.expect_output &&
            regcomp(&re_, o.expect_output, REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0)
            usage("--expect-output: not a POSIX extended regular expression");
        const char* pct = getenv("GREEN_PCT");
        const char* steps = getenv("GREEN_PCT_STEPS");
        calibrate_ = !o.plain && pct && *pct && !(steps && *steps);
        tty_ = isatty(2);
    }
    ~Explorer()
    {
        for (long s = 1; s <= o_.runs; s++) {
            unlink(out_path(s).c_str());
            unlink(err_path(s).c_str());
        }
        rmdir(dir_.c_str());
    }

    int run()
    {
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_BLOCK, &chld, nullptr);
        long next = 1;
        int jobs = int(o_.jobs > 0 ? o_.jobs : sysconf(_SC_NPROCESSORS_ONLN));
        if (jobs < 1)
            jobs = 1;
        for (;;) {
            // A calibrating first run goes alone: the others need what it measures.
            int room = calibrate_ && steps_.empty() ? 1 : jobs;
            while (!stop_ && next <= o_.runs && int(running_.size()) < room)
                start(next++);
            if (running_.empty())
                break;
            timespec wait = {0, 10 * 1000000};
            sigtimedwait(&chld, nullptr, &wait);
            reap();
            expire();
        }
        if (tty_)
            fputc('\n', stderr);
        return report();
    }

private:
    std::string out_path(long s) const { return dir_ + "/out." + std::to_string(s); }
    std::string err_path(long s) const { return dir_ + "/err." + std::to_string(s); }

    void start(long seed)
    {
        std::string seed_text = std::to_string(seed);
        pid_t pid = fork();
        if (pid < 0)
            usage("fork failed");
        if (pid == 0) {
            setpgid(0, 0);
            int in = open("/dev/null", O_RDONLY);
            int out = open(out_path(seed).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            int err = open(err_path(seed).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (in < 0 || out < 0 || err < 0)
                _exit(127);
            dup2(in, 0);
            dup2(out, 1);
            dup2(err, 2);
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, nullptr);
            if (o_.plain) {
                unsetenv("LD_PRELOAD");
            } else {
                if (o_.preload)
                    setenv("LD_PRELOAD", o_.preload, 1);
                setenv("GREEN_SEED", seed_text.c_str(), 1);
                if (calibrate_ && seed == 1)
                    setenv("GREEN_STATS", "1", 1);
                else if (calibrate_)
                    setenv("GREEN_PCT_STEPS", steps_.c_str(), 1);
            }
            execv(o_.command[0], o_.command + 1);
            fprintf(stderr, "greenrun-explore: cannot run %s: %s\n", o_.command[0], strerror(errno));
            _exit(127);
        }
        setpgid(pid, pid);
        running_[pid] = Run{seed, pid, now_ms() + o_.timeout_ms, {}, {}};
    }

    void reap()
    {
        for (;;) {
            int status;
            pid_t pid = waitpid(-1, &status, WNOHANG);
            if (pid <= 0)
                return;
            auto it = running_.find(pid);
            if (it == running_.end())
                continue;
            Run r = it->second;
            running_.erase(it);
            kill(-pid, SIGKILL);  // whatever the command left behind in its group
            if (killed_.erase(pid))
                continue;  // stopped after another run failed: not counted
            finish(r, status, hung_.erase(pid) > 0);
        }
    }

    void expire()
    {
        int64_t now = now_ms();
        for (auto& [pid, r] : running_)
            if (now >= r.deadline && !hung_.count(pid) && !killed_.count(pid)) {
                hung_.insert(pid);
                kill(-pid, SIGKILL);
            }
    }

    void finish(const Run& r, int status, bool hung)
    {
        done_++;
        std::string out = slurp(out_path(r.seed)), err = slurp(err_path(r.seed));
        if (calibrate_ && r.seed == 1) {
            size_t at = err.find("scheduling points (seeded): ");
            long n = at == std::string::npos ? 0 : atol(err.c_str() + at + 28);
            steps_ = std::to_string(n > 0 ? n : 1000);
        }
        std::string kind;
        if (hung) {
            kind = "hang";
        } else if (WIFSIGNALED(status)) {
            const char* name = sigabbrev_np(WTERMSIG(status));
            kind = std::string("signal SIG") + (name ? name : std::to_string(WTERMSIG(status)).c_str());
        } else if (!o_.plain && WEXITSTATUS(status) == kDeadlockStatus &&
                   err.find("libgreen: deadlock in seeded mode") != std::string::npos) {
            kind = "deadlock";
        } else if (WEXITSTATUS(status) != o_.expect_exit) {
            kind = "exit " + std::to_string(WEXITSTATUS(status));
        } else if (o_.expect_output && regexec(&re_, out.c_str(), 0, nullptr, 0) != 0) {
            kind = "output";
        }
        if (!kind.empty()) {
            by_kind_[kind]++;
            failed_++;
            if (!first_.seed || r.seed < first_.seed) {
                first_ = r;
                first_.out = out;
                first_.err = err;
                first_kind_ = kind;
                first_steps_ = calibrate_ && r.seed > 1 ? steps_ : "";
            }
            if (!o_.keep_going && !stop_) {
                stop_ = true;
                for (auto& [pid, other] : running_) {
                    killed_.insert(pid);
                    kill(-pid, SIGKILL);
                }
            }
        }
        if (tty_)
            fprintf(stderr, "\rexplore: %ld/%ld runs, %ld failed", done_, o_.runs, failed_);
    }

    int report()
    {
        std::string kinds;
        for (auto& [k, n] : by_kind_)
            kinds += (kinds.empty() ? "" : ", ") + k + ": " + std::to_string(n);
        printf("explore: %ld runs, %ld failed%s%s%s, rate %.1f%%\n", done_, failed_,
               kinds.empty() ? "" : " (", kinds.c_str(), kinds.empty() ? "" : ")",
               done_ ? 100.0 * double(failed_) / double(done_) : 0.0);
        if (!failed_)
            return 0;
        printf("first failure: seed %ld (%s)\n", first_.seed, first_kind_.c_str());
        if (!first_.err.empty())
            printf("  its stderr, last lines:\n%s", tail(first_.err, 12).c_str());
        if (!first_.out.empty())
            printf("  its stdout, last lines:\n%s", tail(first_.out, 8).c_str());
        std::string cmd = o_.plain ? "" : o_.rerun + " --replay " + std::to_string(first_.seed);
        if (!first_steps_.empty())
            cmd += " --pct-steps " + first_steps_;
        cmd += cmd.empty() ? "" : " --";
        for (char** w = o_.command + 1; *w; w++)
            cmd += (cmd.empty() ? "" : " ") + quoted(*w);
        printf("replay: %s\n", cmd.c_str());
        return 1;
    }

    Options o_;
    std::string dir_;
    regex_t re_;
    bool calibrate_ = false, tty_ = false, stop_ = false;
    std::string steps_;  // GREEN_PCT_STEPS measured by the first run
    std::map<pid_t, Run> running_;
    std::set<pid_t> hung_, killed_;  // runs killed for running too long, or after a failure
    long done_ = 0, failed_ = 0;
    std::map<std::string, long> by_kind_;
    Run first_{0, 0, 0, {}, {}};
    std::string first_kind_, first_steps_;
};

}  // namespace

int main(int argc, char** argv)
{
    Options o;
    int i = 1;
    for (; i < argc; i++) {
        std::string a = argv[i];
        auto value = [&](const char* what) {
            if (i + 1 >= argc)
                usage((std::string(what) + " needs a value").c_str());
            return argv[++i];
        };
        if (a == "--runs")
            o.runs = number(value("--runs"), "--runs");
        else if (a == "--jobs")
            o.jobs = number(value("--jobs"), "--jobs");
        else if (a == "--timeout-ms")
            o.timeout_ms = number(value("--timeout-ms"), "--timeout-ms");
        else if (a == "--expect-exit")
            o.expect_exit = int(number(value("--expect-exit"), "--expect-exit"));
        else if (a == "--expect-output")
            o.expect_output = value("--expect-output");
        else if (a == "--keep-going")
            o.keep_going = true;
        else if (a == "--plain")
            o.plain = true;
        else if (a == "--rerun")
            o.rerun = value("--rerun");
        else if (a == "--preload")
            o.preload = value("--preload");
        else if (a == "--")
            break;
        else
            usage(("unknown option " + a).c_str());
    }
    if (i + 2 >= argc || o.runs < 1)
        usage("usage: greenrun-explore --runs N [options] -- PATH ARGV0 [ARGS...]");
    o.command = argv + i + 1;
    return Explorer(o).run();
}
