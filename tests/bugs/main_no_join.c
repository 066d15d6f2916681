// Corpus of deliberately buggy programs (tests/bugs/README.md): threads started by a main that
// does not join them, depth 2.
//
// Four writers each append 10 records to a journal; a record is written in three locked steps
// (header, body, trailer).  main starts them and returns without joining: the journal's exit
// handler then checks and "flushes" it while writers may be half-way through a record, as real
// threads would be when main returns.  Depth 2: a writer must have started and be preempted
// inside a record when main goes on to return.
// Failure: "BUG: ..." on stderr from the exit handler, exit status 2.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define WRITERS 4
#define RECORDS 10

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int open_records;  // headers written without their trailer yet
static int complete;

static void step(int delta, int done)
{
    pthread_mutex_lock(&lock);
    open_records += delta;
    complete += done;
    pthread_mutex_unlock(&lock);
}

static void* writer(void* arg)
{
    (void)arg;
    for (int i = 0; i < RECORDS; i++) {
        step(1, 0);   // header
        step(0, 0);   // body
        step(-1, 1);  // trailer
    }
    return NULL;
}

static void flush_journal(void)
{
    // Runs at exit, with no lock: nobody is supposed to write any more.
    if (open_records != 0) {
        fprintf(stderr, "BUG: journal flushed with %d torn records\n", open_records);
        _exit(2);
    }
    printf("journal: %d complete records\n", complete);
}

int main(void)
{
    atexit(flush_journal);
    pthread_t t;
    for (int i = 0; i < WRITERS; i++) {
        pthread_create(&t, NULL, writer, NULL);
        pthread_detach(t);
    }
    return 0;  // without waiting for the writers (the bug)
}
