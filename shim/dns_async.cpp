// Asynchronous look-ups: getaddrinfo_a, gai_suspend, gai_error, gai_cancel.
//
// glibc runs each request on a thread of its own pool (created behind libgreen's back, so the
// look-ups there would block real threads and use glibc's resolver, not libgreen's).  Here each
// request runs getaddrinfo in a green thread of the caller's hub.  Completion is announced on
// one futex word, which gai_suspend and GAI_WAIT wait on; a request whose __return is still
// EAI_INPROGRESS is running.  A running request cannot be cancelled (glibc cancels only those
// its pool has not started): gai_cancel then says EAI_NOTCANCELED.
#include <netdb.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "../hub/waitq.h"
#include "shim.h"

using namespace green;

namespace {

// Bumped after every completion; waiters sleep on it.
std::atomic<uint32_t> completions{0};

// One getaddrinfo_a call's GAI_NOWAIT notification, sent when its last request ends.
struct Batch {
    std::atomic<int> left;
    struct sigevent event;
    pid_t caller;
};

struct Job {
    gaicb* request;
    Batch* batch;
};

void* run_notify(void* arg)
{
    auto* b = static_cast<Batch*>(arg);
    b->event.sigev_notify_function(b->event.sigev_value);
    free(b);
    return nullptr;
}

void notify(Batch* b)
{
    if (b->event.sigev_notify == SIGEV_SIGNAL) {
        sigqueue(b->caller, b->event.sigev_signo, b->event.sigev_value);
    } else if (b->event.sigev_notify == SIGEV_THREAD) {
        pthread_t t;
        pthread_attr_t own;
        pthread_attr_t* attr = b->event.sigev_notify_attributes;
        if (!attr) {
            pthread_attr_init(&own);
            attr = &own;
        }
        pthread_attr_setdetachstate(attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, attr, run_notify, b) == 0)
            return;  // run_notify frees b
    }
    free(b);
}

void finished()
{
    completions.fetch_add(1, std::memory_order_release);
    futex_wake(reinterpret_cast<uint32_t*>(&completions), INT_MAX, true);
}

void* run_request(void* arg)
{
    auto* job = static_cast<Job*>(arg);
    gaicb* r = job->request;
    addrinfo* result = nullptr;
    int rc = getaddrinfo(r->ar_name, r->ar_service, r->ar_request, &result);
    r->ar_result = result;
    __atomic_store_n(&r->__return, rc, __ATOMIC_RELEASE);
    finished();
    if (job->batch && job->batch->left.fetch_sub(1) == 1)
        notify(job->batch);
    free(job);
    return nullptr;
}

bool in_progress(const gaicb* r)
{
    return r && __atomic_load_n(&r->__return, __ATOMIC_ACQUIRE) == EAI_INPROGRESS;
}

// Waits until done() or the deadline (kForever: none); false on timeout.  Requests started
// by glibc's own getaddrinfo_a on a real thread end without bumping the word: re-check often.
template <typename Done>
bool wait_until(Done done, int64_t deadline)
{
    for (;;) {
        uint32_t seen = completions.load(std::memory_order_acquire);
        if (done())
            return true;
        int64_t now = mono_now();
        if (deadline != kForever && now >= deadline)
            return false;
        int64_t until = now + 50 * 1000000;
        if (deadline != kForever && deadline < until)
            until = deadline;
        futex_wait(reinterpret_cast<uint32_t*>(&completions), seen, until, false, nullptr);
    }
}

}  // namespace

GREEN_EXPORT int getaddrinfo_a(int mode, gaicb* list[], int n, struct sigevent* sev)
{
    if (!green_in(kDns))
        return REAL(getaddrinfo_a)(mode, list, n, sev);
    if (mode != GAI_WAIT && mode != GAI_NOWAIT) {
        errno = EINVAL;
        return EAI_SYSTEM;
    }
    Batch* batch = nullptr;
    if (mode == GAI_NOWAIT && sev && sev->sigev_notify != SIGEV_NONE) {
        batch = static_cast<Batch*>(calloc(1, sizeof *batch));
        if (!batch)
            return EAI_AGAIN;
        batch->event = *sev;
        batch->caller = getpid();
    }
    int started = 0, result = 0;
    if (batch)
        batch->left = 1;  // held until every request is started
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < n; i++) {
        if (!list[i])
            continue;
        auto* job = static_cast<Job*>(malloc(sizeof(Job)));
        pthread_t t;
        list[i]->__return = EAI_INPROGRESS;
        list[i]->ar_result = nullptr;
        if (job) {
            *job = {list[i], batch};
            if (batch)
                batch->left++;
            if (pthread_create(&t, &attr, run_request, job) == 0) {
                started++;
                continue;
            }
            if (batch)
                batch->left--;
            free(job);
        }
        list[i]->__return = EAI_SYSTEM;
        result = EAI_SYSTEM;
    }
    pthread_attr_destroy(&attr);
    if (batch && batch->left.fetch_sub(1) == 1)
        notify(batch);
    if (mode == GAI_WAIT && started) {
        wait_until([&] {
            for (int i = 0; i < n; i++)
                if (in_progress(list[i]))
                    return false;
            return true;
        }, kForever);
    }
    return result;
}

GREEN_EXPORT int gai_suspend(const gaicb* const list[], int n, const struct timespec* timeout)
{
    if (!green_in(kDns))
        return REAL(gai_suspend)(list, n, timeout);
    auto none_running = [&] {
        for (int i = 0; i < n; i++)
            if (in_progress(list[i]))
                return false;
        return true;
    };
    if (none_running())
        return EAI_ALLDONE;
    // Which requests run now: the first of them to end ends the wait.
    bool running[n];
    for (int i = 0; i < n; i++)
        running[i] = in_progress(list[i]);
    int64_t deadline = kForever;
    if (timeout)
        deadline = mono_now() + int64_t(timeout->tv_sec) * 1000000000 + timeout->tv_nsec;
    int saved_errno = errno;
    bool ended = wait_until([&] {
        for (int i = 0; i < n; i++)
            if (running[i] && !in_progress(list[i]))
                return true;
        return false;
    }, deadline);
    errno = saved_errno;
    // glibc 2.36 reports a timeout as EAI_SYSTEM, errno untouched (its futex wait turns
    // ETIMEDOUT into EAGAIN, which gai_suspend then does not recognise); programs see that.
    return ended ? 0 : EAI_SYSTEM;
}

GREEN_EXPORT int gai_error(gaicb* req)
{
    return __atomic_load_n(&req->__return, __ATOMIC_ACQUIRE);
}

GREEN_EXPORT int gai_cancel(gaicb* req)
{
    if (!green_in(kDns))
        return REAL(gai_cancel)(req);
    return in_progress(req) ? EAI_NOTCANCELED : EAI_ALLDONE;
}
