// greenrun-explore: the loops behind `greenrun --explore N` and `greenrun --shrink SEED`.
//
//   greenrun-explore --runs N [--jobs J] [--timeout-ms T] [--expect-exit C]
//                    [--expect-output REGEX] [--keep-going] [--plain] [--rerun PREFIX]
//                    [--preload LD_PRELOAD] -- PATH ARGV0 [ARGS...]
//   greenrun-explore --shrink SEED [--timeout-ms T] [--expect-exit C] [--expect-output REGEX]
//                    [--rerun-file PREFIX] [--preload LD_PRELOAD] -- PATH ARGV0 [ARGS...]
//
// Explore runs a command under seeded schedules, one seed after another (1, 2, ... N), J at a
// time, until one fails, and says how to replay it.  greenrun has already checked its options
// and put the GREEN_* variables in the environment; each run gets LD_PRELOAD (which this
// program runs without) and GREEN_SEED.  A run fails when it exits with a status other than
// C (default 0), dies of a signal, ends in a seeded deadlock (the library's status 86), runs
// past T, or, with --expect-output, prints nothing on stdout that REGEX (POSIX extended,
// ^ and $ at line ends) matches.  Under PCT (GREEN_PCT) without GREEN_PCT_STEPS, the first run
// measures how many scheduling steps the command takes (GREEN_STATS), and the later ones use
// that as the estimate their change points are drawn over.  --plain runs the command without
// libgreen (the plain stress baseline of scripts/bugs_table.sh).  PREFIX is greenrun with the
// options that shape the schedule, for the replay line.  Under GREEN_CHAOS_PREEMPT a seed
// does not fix where the preemptions fall (hub/chaos.h): the first failing seed is run again
// kReruns times, and the report says how often it failed again.
//
// Shrink reruns the failing SEED with a trace (GREEN_TRACE), takes the decisions of its schedule
// that differ from the default (the forced ones: hub/steps.cpp, "Steps"), and searches, by delta
// debugging (Zeller's ddmin), for a smallest subset that, run as a schedule file
// (GREEN_SCHEDULE), still fails the same way.  It writes that file (shrink-SEED.schedule, in the
// current directory) and prints the failure and the remaining switches as a trace: at each,
// the thread that gave way, its call and call site, and the call the thread that ran next
// made (names from addr2line).  PREFIX is greenrun with the options that still matter with a
// schedule file (faults, deadlines).
//
// Exit status: 0 when no run failed (explore), 1 when one did (explore) or the shrunk schedule
// is written (shrink), 2 for bad usage, a run that could not be started, or a seed that does
// not fail.
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
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr int kDeadlockStatus = 86;  // hub/chaos.h
constexpr int kReruns = 10;          // reruns of a failing seed under GREEN_CHAOS_PREEMPT

struct Options {
    long runs = 0;
    long jobs = 0;
    long timeout_ms = 30000;
    int expect_exit = 0;
    const char* expect_output = nullptr;
    bool keep_going = false;
    bool plain = false;
    std::string rerun = "greenrun";
    std::string rerun_file = "greenrun";  // what precedes --replay-file in shrink's replay line
    const char* shrink_seed = nullptr;  // --shrink: the failing seed (greenrun checked it)
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

std::string make_scratch()
{
    const char* tmp = getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/greenrun-explore.XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data()))
        usage(("cannot make a scratch directory " + templ + ": " + strerror(errno)).c_str());
    return buf.data();
}

// Whether a run failed, and how: "" for a good run.
class Judge {
public:
    explicit Judge(const Options& o) : o_(o)
    {
        if (o.expect_output &&
            regcomp(&re_, o.expect_output, REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0)
            usage("--expect-output: not a POSIX extended regular expression");
    }
    std::string kind(int status, bool hung, const std::string& out, const std::string& err) const
    {
        if (hung)
            return "hang";
        if (WIFSIGNALED(status)) {
            const char* name = sigabbrev_np(WTERMSIG(status));
            return std::string("signal SIG") + (name ? name : std::to_string(WTERMSIG(status)).c_str());
        }
        if (!o_.plain && WEXITSTATUS(status) == kDeadlockStatus &&
            err.find("libgreen: deadlock in seeded mode") != std::string::npos)
            return "deadlock";
        if (WEXITSTATUS(status) != o_.expect_exit)
            return "exit " + std::to_string(WEXITSTATUS(status));
        if (o_.expect_output && regexec(&re_, out.c_str(), 0, nullptr, 0) != 0)
            return "output";
        return "";
    }

private:
    const Options& o_;
    regex_t re_;
};

// Starts the command in a process group of its own, its output to the files out and err, with
// env added to the environment (libgreen preloaded unless --plain).
pid_t spawn(const Options& o, const std::string& out, const std::string& err,
            const std::vector<std::pair<std::string, std::string>>& env)
{
    pid_t pid = fork();
    if (pid < 0)
        usage("fork failed");
    if (pid == 0) {
        setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        int fo = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fe = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || fo < 0 || fe < 0)
            _exit(127);
        dup2(in, 0);
        dup2(fo, 1);
        dup2(fe, 2);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        if (o.plain)
            unsetenv("LD_PRELOAD");
        else if (o.preload)
            setenv("LD_PRELOAD", o.preload, 1);
        for (auto& [k, v] : env)
            setenv(k.c_str(), v.c_str(), 1);
        execv(o.command[0], o.command + 1);
        fprintf(stderr, "greenrun-explore: cannot run %s: %s\n", o.command[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    return pid;
}

// The command as a shell reads it back.
std::string command_words(const Options& o)
{
    std::string cmd;
    for (char** w = o.command + 1; *w; w++)
        cmd += (cmd.empty() ? "" : " ") + quoted(*w);
    return cmd;
}

class Explorer {
public:
    explicit Explorer(const Options& o) : o_(o), judge_(o), dir_(make_scratch())
    {
        const char* pct = getenv("GREEN_PCT");
        const char* steps = getenv("GREEN_PCT_STEPS");
        calibrate_ = !o.plain && pct && *pct && !(steps && *steps);
        const char* preempt = getenv("GREEN_CHAOS_PREEMPT");
        unseeded_ = !o.plain && preempt && *preempt;
        tty_ = isatty(2);
    }
    ~Explorer()
    {
        for (long s = 0; s <= o_.runs; s++) {
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
        std::vector<std::pair<std::string, std::string>> env;
        if (!o_.plain) {
            env.push_back({"GREEN_SEED", std::to_string(seed)});
            if (calibrate_ && seed == 1)
                env.push_back({"GREEN_STATS", "1"});
            else if (calibrate_)
                env.push_back({"GREEN_PCT_STEPS", steps_});
        }
        pid_t pid = spawn(o_, out_path(seed), err_path(seed), env);
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
        std::string kind = judge_.kind(status, hung, out, err);
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
        if (calibrate_ && !steps_.empty())
            printf("pct steps: %s, as the first run measured\n", steps_.c_str());
        if (!failed_)
            return 0;
        printf("first failure: seed %ld (%s)\n", first_.seed, first_kind_.c_str());
        if (!first_.err.empty())
            printf("  its stderr, last lines:\n%s", tail(first_.err, 12).c_str());
        if (!first_.out.empty())
            printf("  its stdout, last lines:\n%s", tail(first_.out, 8).c_str());
        if (unseeded_)
            printf("reruns: seed %ld failed again in %d of %d reruns (with --chaos-preempt, where "
                   "the preemptions fall is not seeded)\n",
                   first_.seed, rerun_failures(first_.seed), kReruns);
        std::string cmd = o_.plain ? "" : o_.rerun + " --replay " + std::to_string(first_.seed);
        if (!first_steps_.empty())
            cmd += " --pct-steps " + first_steps_;
        cmd += (cmd.empty() ? "" : " -- ") + command_words(o_);
        printf("replay: %s\n", cmd.c_str());
        return 1;
    }

    // Runs the failing seed kReruns times, one after another, as its first run (out.0 and
    // err.0 hold each one's output): how many failed.
    int rerun_failures(long seed)
    {
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        std::vector<std::pair<std::string, std::string>> env = {{"GREEN_SEED", std::to_string(seed)}};
        if (!first_steps_.empty())
            env.push_back({"GREEN_PCT_STEPS", first_steps_});
        int failed = 0;
        for (int i = 0; i < kReruns; i++) {
            pid_t pid = spawn(o_, out_path(0), err_path(0), env);
            int64_t deadline = now_ms() + o_.timeout_ms;
            int status = 0;
            bool hung = false;
            while (waitpid(pid, &status, WNOHANG) == 0) {
                if (!hung && now_ms() >= deadline) {
                    hung = true;
                    kill(-pid, SIGKILL);
                }
                timespec wait = {0, 10 * 1000000};
                sigtimedwait(&chld, nullptr, &wait);
            }
            kill(-pid, SIGKILL);  // whatever it left behind in its group
            if (!judge_.kind(status, hung, slurp(out_path(0)), slurp(err_path(0))).empty())
                failed++;
        }
        return failed;
    }

    Options o_;
    Judge judge_;
    std::string dir_;
    bool calibrate_ = false, tty_ = false, stop_ = false;
    bool unseeded_ = false;  // GREEN_CHAOS_PREEMPT: a failing seed is rerun
    std::string steps_;  // GREEN_PCT_STEPS measured by the first run
    std::map<pid_t, Run> running_;
    std::set<pid_t> hung_, killed_;  // runs killed for running too long, or after a failure
    long done_ = 0, failed_ = 0;
    std::map<std::string, long> by_kind_;
    Run first_{0, 0, 0, {}, {}};
    std::string first_kind_, first_steps_;
};


// ---- shrink ------------------------------------------------------------------------------

struct Decision {
    unsigned long long step, thread;
};

// One line of a trace (hub/steps.cpp, trace_step).
struct Step {
    unsigned long long step = 0, from = 0, to = 0;
    std::string call, site;
    bool forced = false;
};

std::vector<Step> read_trace(const std::string& path)
{
    std::vector<Step> steps;
    std::istringstream in(slurp(path));
    for (std::string line; std::getline(in, line);) {
        std::istringstream l(line);
        Step st;
        std::string flag;
        if (l >> st.step >> st.from >> st.to >> st.call >> st.site) {
            st.forced = (l >> flag) && flag == "forced";
            steps.push_back(st);
        }
    }
    return steps;
}

class Shrinker {
public:
    explicit Shrinker(const Options& o) : o_(o), judge_(o), dir_(make_scratch()) {}
    ~Shrinker()
    {
        for (int i = 0; i <= runs_; i++)
            for (const char* f : {"out.", "err.", "trace.", "schedule."})
                unlink((dir_ + "/" + f + std::to_string(i)).c_str());
        rmdir(dir_.c_str());
    }

    int run()
    {
        std::string seed = o_.shrink_seed;
        // The failing run, traced.
        Result first = once({{"GREEN_SEED", seed}, {"GREEN_TRACE", path("trace.", 0)}});
        if (first.kind.empty()) {
            fprintf(stderr, "greenrun: seed %s does not fail (%s): nothing to shrink\n",
                    seed.c_str(), "it exits as expected");
            return 2;
        }
        kind_ = first.kind;
        std::vector<Decision> all;
        for (const Step& st : read_trace(path("trace.", 0)))
            if (st.forced)
                all.push_back({st.step, st.to});
        if (!fails(all)) {
            fprintf(stderr, "greenrun: seed %s fails (%s), but not again from its %zu decisions "
                            "(the program is not deterministic under a seed?)\n",
                    seed.c_str(), kind_.c_str(), all.size());
            return 2;
        }
        std::vector<Decision> least = ddmin(all);
        std::string file = "shrink-" + seed + ".schedule";
        std::string replay = o_.rerun_file + " --replay-file " + file + " -- " + command_words(o_);
        write_schedule(file, least, "# greenrun --shrink " + seed + ": " + kind_ + " with " +
                                        std::to_string(least.size()) + " of the " +
                                        std::to_string(all.size()) + " forced decisions\n# replay: " +
                                        replay + "\n");
        // Once more, traced, for the report.
        std::string traced = path("trace.", runs_);
        Result last = once({{"GREEN_SCHEDULE", file}, {"GREEN_TRACE", traced}});
        std::vector<Step> trace = read_trace(traced);
        printf("shrink: seed %s fails (%s); of its %zu forced decisions %zu remain (%d runs)\n",
               seed.c_str(), kind_.c_str(), all.size(), least.size(), runs_);
        printf("schedule: %s\n", file.c_str());
        if (!last.err.empty())
            printf("the failure:\n%s", tail(last.err, 12).c_str());
        printf("the interleaving (each forced switch, then what the thread switched to did):\n");
        for (size_t i = 0; i < trace.size(); i++) {
            const Step& st = trace[i];
            if (!st.forced)
                continue;
            std::string who = st.from ? "thread " + std::to_string(st.from) : "the hub";
            printf("  step %llu: %s, %s%s: thread %llu runs\n", st.step, who.c_str(),
                   st.call.c_str(), where(st.site).c_str(), st.to);
            for (size_t j = i + 1; j < trace.size(); j++)
                if (trace[j].from == st.to) {
                    printf("           thread %llu then: %s%s\n", st.to, trace[j].call.c_str(),
                           where(trace[j].site).c_str());
                    break;
                }
        }
        printf("replay: %s\n", replay.c_str());
        return 1;
    }

private:
    struct Result {
        std::string kind, out, err;
    };

    std::string path(const char* what, int i) const { return dir_ + "/" + what + std::to_string(i); }

    // Runs the command once, synchronously, within the time limit.
    Result once(const std::vector<std::pair<std::string, std::string>>& env)
    {
        int i = runs_++;
        pid_t pid = spawn(o_, path("out.", i), path("err.", i), env);
        int64_t deadline = now_ms() + o_.timeout_ms;
        int status = 0;
        bool hung = false;
        while (waitpid(pid, &status, WNOHANG) == 0) {
            if (now_ms() >= deadline && !hung) {
                hung = true;
                kill(-pid, SIGKILL);
            }
            usleep(2000);
        }
        kill(-pid, SIGKILL);
        Result r;
        r.out = slurp(path("out.", i));
        r.err = slurp(path("err.", i));
        r.kind = judge_.kind(status, hung, r.out, r.err);
        return r;
    }

    void write_schedule(const std::string& file, const std::vector<Decision>& d,
                        const std::string& header)
    {
        FILE* f = fopen(file.c_str(), "w");
        if (!f)
            usage(("cannot write " + file + ": " + strerror(errno)).c_str());
        fputs(header.c_str(), f);
        fprintf(f, "seed %s\n", o_.shrink_seed);
        for (const Decision& x : d)
            fprintf(f, "%llu %llu\n", x.step, x.thread);
        fclose(f);
    }

    // Whether the schedule of these decisions fails as the seed did.
    bool fails(const std::vector<Decision>& d)
    {
        std::string file = path("schedule.", runs_);
        write_schedule(file, d, "");
        return once({{"GREEN_SCHEDULE", file}}).kind == kind_;
    }

    // Zeller and Hildebrandt's ddmin: a 1-minimal subset of d that still fails.
    std::vector<Decision> ddmin(std::vector<Decision> d)
    {
        if (d.empty() || fails({}))
            return {};
        size_t n = 2;
        while (d.size() >= 2) {
            size_t chunk = (d.size() + n - 1) / n;
            bool reduced = false;
            for (size_t at = 0; at < d.size() && !reduced; at += chunk) {
                std::vector<Decision> part(d.begin() + long(at),
                                           d.begin() + long(std::min(d.size(), at + chunk)));
                std::vector<Decision> rest(d.begin(), d.begin() + long(at));
                rest.insert(rest.end(), d.begin() + long(std::min(d.size(), at + chunk)), d.end());
                if (fails(part)) {
                    d = part;
                    n = 2;
                    reduced = true;
                } else if (n > 2 && fails(rest)) {
                    d = rest;
                    n = std::max<size_t>(n - 1, 2);
                    reduced = true;
                }
            }
            if (!reduced) {
                if (n >= d.size())
                    break;
                n = std::min(n * 2, d.size());
            }
        }
        if (d.size() == 1 && fails({}))
            return {};
        return d;
    }

    // " at FUNCTION (FILE:LINE)" for a trace's call site, by addr2line; "" without one.
    std::string where(const std::string& site)
    {
        size_t plus = site.rfind("+0x");
        if (site == "-" || plus == std::string::npos)
            return "";
        auto it = names_.find(site);
        if (it != names_.end())
            return it->second;
        std::string cmd = "addr2line -f -C -e " + quoted(site.substr(0, plus)) + " " +
                          site.substr(plus + 1) + " 2>/dev/null";
        std::string fn, line;
        if (FILE* p = popen(cmd.c_str(), "r")) {
            char buf[1024];
            if (fgets(buf, sizeof buf, p))
                fn = buf;
            if (fgets(buf, sizeof buf, p))
                line = buf;
            pclose(p);
        }
        auto chomp = [](std::string& t) {
            while (!t.empty() && (t.back() == '\n' || t.back() == ' '))
                t.pop_back();
        };
        chomp(fn);
        chomp(line);
        size_t disc = line.find(" (discriminator");
        if (disc != std::string::npos)
            line.erase(disc);
        char cwd[4096];
        if (getcwd(cwd, sizeof cwd) && line.rfind(std::string(cwd) + "/", 0) == 0)
            line.erase(0, strlen(cwd) + 1);
        std::string w;
        if (!fn.empty() && fn != "??")
            w = " in " + fn + (line.empty() || line[0] == '?' ? "" : " (" + line + ")");
        else
            w = " at " + site;
        return names_[site] = w;
    }

    Options o_;
    Judge judge_;
    std::string dir_;
    std::string kind_;
    int runs_ = 0;
    std::map<std::string, std::string> names_;
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
        else if (a == "--shrink")
            o.shrink_seed = value("--shrink");
        else if (a == "--rerun-file")
            o.rerun_file = value("--rerun-file");
        else if (a == "--")
            break;
        else
            usage(("unknown option " + a).c_str());
    }
    if (i + 2 >= argc || (o.runs < 1 && !o.shrink_seed))
        usage("usage: greenrun-explore --runs N | --shrink SEED [options] -- PATH ARGV0 [ARGS...]");
    o.command = argv + i + 1;
    if (o.shrink_seed)
        return Shrinker(o).run();
    return Explorer(o).run();
}
