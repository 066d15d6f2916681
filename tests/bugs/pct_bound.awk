# The runs within which PCT finds a bug but once in a thousand tries: ceil(ln(1000) / p), for
# p = 1 / (n k^(d-1)), its guarantee for a bug of depth d among n threads in a run of k steps
# (Burckhardt et al., ASPLOS 2010).  With --expire P among the options o (commas for spaces),
# the wait must also expire while others run, which one spanning 10 points does with
# 1 - (1 - P)^10.  Used by tests/run.sh and scripts/bugs_table.sh:
#   awk -v n=THREADS -v k=STEPS -v d=DEPTH -v o=OPTIONS -f tests/bugs/pct_bound.awk
BEGIN {
    p = 1 / (n * k ^ (d - 1))
    if (match(o, /--expire,[0-9.]+/)) {
        e = substr(o, RSTART + 9, RLENGTH - 9)
        p *= 1 - (1 - e) ^ 10
    }
    b = log(1000) / p
    print (b == int(b)) ? b : int(b) + 1
}
