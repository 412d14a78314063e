// Package diskcheck judges whether a volume is fast enough for etcd's write-ahead log.
//
// etcd's hardware guide asks for a 99th percentile of WAL fdatasync below 10 ms. The usual test is
// fio writing 2300-byte blocks with an fdatasync after each (Command); Parse reads fio's JSON output
// and Check applies the threshold. check.sh (Script) does the same in a pod with only sh, awk and
// fio, and prints the same verdict; the tests prove both agree on the same fio outputs.
//
//	out, _ := exec.Command(diskcheck.Command("/var/lib/etcd/disk-check")[0], ...).Output()
//	r, err := diskcheck.Parse(bytes.NewReader(out))
//	err = diskcheck.Check(r, diskcheck.DefaultThreshold)
package diskcheck

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// DefaultThreshold is etcd's guideline for the p99 of WAL fdatasync.
const DefaultThreshold = 10 * time.Millisecond

// StorageTypeKey is the config key that picks the etcd volume type; the failure message names it.
const StorageTypeKey = "anka:storage.etcd.type"

// Script is check.sh: runs fio in a directory (or reads FIO_JSON) and prints Check's verdict.
//
//go:embed check.sh
var Script string

// Errors of Parse and Check, for errors.Is.
var (
	ErrSlowDisk    = errors.New("etcd disk check failed")
	ErrFioOutput   = errors.New("unusable fio output")
	ErrNoFdatasync = errors.New("fio output has no fdatasync latencies (jobs[0].sync.lat_ns); run fio with --fdatasync=1")
)

// Command is the fio command line of the check, writing 22 MiB in 2300-byte blocks into dir with
// an fdatasync after each write, JSON on stdout. dir must be on the volume under test.
func Command(dir string) []string {
	return []string{"fio", "--rw=write", "--ioengine=sync", "--fdatasync=1", "--directory=" + dir,
		"--size=22m", "--bs=2300", "--name=etcd-disk-check", "--output-format=json"}
}

// Result is what the check needs from one fio run.
type Result struct {
	FioVersion string
	// Directory the test wrote to (fio's "directory" option).
	Directory string
	// Syncs is the number of fdatasync calls measured.
	Syncs int64
	// Fdatasync latency percentiles, mean and maximum.
	FdatasyncP99  time.Duration
	FdatasyncP999 time.Duration
	FdatasyncMean time.Duration
	FdatasyncMax  time.Duration
	// WriteIOPS is fio's write IOPS (each write followed by its fdatasync).
	WriteIOPS float64
}

type fioOutput struct {
	Version string         `json:"fio version"`
	Global  map[string]any `json:"global options"`
	Jobs    []struct {
		Options map[string]any `json:"job options"`
		Write   struct {
			IOPS float64 `json:"iops"`
		} `json:"write"`
		Sync *struct {
			LatNS struct {
				Max        float64            `json:"max"`
				Mean       float64            `json:"mean"`
				N          int64              `json:"N"`
				Percentile map[string]float64 `json:"percentile"`
			} `json:"lat_ns"`
		} `json:"sync"`
	} `json:"jobs"`
}

// Parse reads fio's JSON output (--output-format=json). Text fio prints before the JSON is skipped.
func Parse(r io.Reader) (Result, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrFioOutput, err)
	}
	if i := bytes.IndexByte(data, '{'); i > 0 {
		data = data[i:]
	}
	var out fioOutput
	if err := json.Unmarshal(data, &out); err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrFioOutput, err)
	}
	if len(out.Jobs) == 0 {
		return Result{}, fmt.Errorf("%w: no jobs", ErrFioOutput)
	}
	job := out.Jobs[0]
	if job.Sync == nil || job.Sync.LatNS.N == 0 {
		return Result{}, ErrNoFdatasync
	}
	lat := job.Sync.LatNS
	pct := func(want float64) (time.Duration, error) {
		for k, v := range lat.Percentile {
			if f, err := strconv.ParseFloat(k, 64); err == nil && f == want {
				return time.Duration(v), nil
			}
		}
		return 0, fmt.Errorf("%w: no %g percentile in jobs[0].sync.lat_ns", ErrFioOutput, want)
	}
	res := Result{
		FioVersion:    out.Version,
		Directory:     str(out.Global["directory"]),
		Syncs:         lat.N,
		FdatasyncMean: time.Duration(lat.Mean),
		FdatasyncMax:  time.Duration(lat.Max),
		WriteIOPS:     job.Write.IOPS,
	}
	if res.Directory == "" {
		res.Directory = str(job.Options["directory"])
	}
	if res.FdatasyncP99, err = pct(99); err != nil {
		return Result{}, err
	}
	if res.FdatasyncP999, err = pct(99.9); err != nil {
		return Result{}, err
	}
	return res, nil
}

// Check fails when the p99 of fdatasync reaches threshold (DefaultThreshold if zero), with a
// message that names the directory, the measured value and the way out.
func Check(r Result, threshold time.Duration) error {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	if r.Syncs == 0 {
		return ErrNoFdatasync
	}
	if r.FdatasyncP99 >= threshold {
		return fmt.Errorf("%w: fdatasync p99 is %s on %s, above etcd's %s guideline; use gp3 with provisioned IOPS or io2 (%s)",
			ErrSlowDisk, ms(r.FdatasyncP99), r.Directory, ms(threshold), StorageTypeKey)
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// ms formats a duration as milliseconds with one decimal, "10" for 10.0 (as check.sh does).
func ms(d time.Duration) string {
	return strings.TrimSuffix(strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64), ".0") + "ms"
}
