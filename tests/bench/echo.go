// A goroutine-per-connection echo server in Go, for scripts/bench_echo.sh: what the Go runtime
// makes of the same thread-per-connection program shape.  Run it with GOMAXPROCS=1.
//
//	echo_go serve PORT [READYFILE]
//	echo_go info     prints "go_version V gomaxprocs N" (what the benchmark script reports)
//
// Same command line and same statistics protocol as tests/plain/echo_server.c: binds
// 127.0.0.1:PORT (0 = any free port); writes the actual port to READYFILE (through READYFILE.tmp
// and rename) or, without it, prints it on stdout.  Every connection gets one goroutine that
// reads up to 16 KiB and writes it all back until the peer closes.  A connection whose first 5
// bytes are "STAT\n" gets one line instead of an echo:
//
//	conns_open N conns_total M os_threads T rss_kib R cpu_ms C
//
// (the statistics connection itself is not counted; os_threads = entries of /proc/self/task,
// rss_kib = VmRSS, cpu_ms = user + system CPU time from getrusage).
//
// Built without modules: go build -o build/bench/echo_go tests/bench/echo.go (GO111MODULE=off).
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	bufSize    = 16384
	statReq    = "STAT\n"
	statReqLen = 5
)

var connsOpen, connsTotal int64

func osThreads() int {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return -1
	}
	return len(entries)
}

func rssKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, "VmRSS:") {
			fields := strings.Fields(line[len("VmRSS:"):])
			if len(fields) > 0 {
				if v, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
					return v
				}
			}
		}
	}
	return -1
}

func cpuMs() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return (ru.Utime.Sec+ru.Stime.Sec)*1000 + (ru.Utime.Usec+ru.Stime.Usec)/1000
}

func writeAll(c net.Conn, b []byte) error {
	for len(b) > 0 {
		n, err := c.Write(b)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func handle(c net.Conn) {
	defer c.Close()
	defer atomic.AddInt64(&connsOpen, -1)
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true) // Go's default, said explicitly
	}
	buf := make([]byte, bufSize)
	have := 0
	// The first bytes: read on while what arrived is a proper prefix of the statistics request.
	for {
		n, err := c.Read(buf[have:])
		have += n
		if err != nil || n == 0 {
			if have > 0 {
				writeAll(c, buf[:have])
			}
			return
		}
		if have >= statReqLen || !bytes.Equal(buf[:have], []byte(statReq)[:have]) {
			break
		}
	}
	if have >= statReqLen && string(buf[:statReqLen]) == statReq {
		// Not an echo connection: take it out of the counts (the deferred add does conns_open).
		atomic.AddInt64(&connsTotal, -1)
		line := fmt.Sprintf("conns_open %d conns_total %d os_threads %d rss_kib %d cpu_ms %d\n",
			atomic.LoadInt64(&connsOpen)-1, atomic.LoadInt64(&connsTotal), osThreads(),
			rssKiB(), cpuMs())
		writeAll(c, []byte(line))
		return
	}
	if writeAll(c, buf[:have]) != nil {
		return
	}
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if writeAll(c, buf[:n]) != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func writeReadyFile(path string, port int) {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "echo_go: cannot write %s: %v\n", path, err)
		os.Exit(1)
	}
	if err := os.Rename(tmp, path); err != nil {
		fmt.Fprintf(os.Stderr, "echo_go: cannot write %s: %v\n", path, err)
		os.Exit(1)
	}
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "info" {
		fmt.Printf("go_version %s gomaxprocs %d\n", runtime.Version(), runtime.GOMAXPROCS(0))
		return
	}
	if len(os.Args) < 3 || len(os.Args) > 4 || os.Args[1] != "serve" {
		fmt.Fprintln(os.Stderr, "usage: echo_go serve PORT [READYFILE] | echo_go info")
		os.Exit(2)
	}
	port, err := strconv.Atoi(os.Args[2])
	if err != nil || port < 0 || port > 65535 {
		fmt.Fprintln(os.Stderr, "usage: echo_go serve PORT [READYFILE] | echo_go info")
		os.Exit(2)
	}
	// Go sets SO_REUSEADDR and uses the kernel's somaxconn as the backlog.
	ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo_go: listen:", err)
		os.Exit(1)
	}
	actual := ln.Addr().(*net.TCPAddr).Port
	if len(os.Args) == 4 {
		writeReadyFile(os.Args[3], actual)
	} else {
		fmt.Println(actual)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			// EMFILE and the like: reported, and retried after 10 ms, like echo_server does.
			fmt.Fprintln(os.Stderr, "echo_go: accept:", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		atomic.AddInt64(&connsOpen, 1)
		atomic.AddInt64(&connsTotal, 1)
		go handle(c)
	}
}
