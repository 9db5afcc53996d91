// Package gentree builds large synthetic source trees for gb's benchmarks:
// one MUTABLE-style source whose top-level directories are the atoms, each
// with nested subdirectories, a spread of file sizes like a real disk's
// (most files under 16 KB, some of 100 KB–10 MB, a few of 50–200 MB when
// the byte budget allows) and about half of the bytes text-like
// (compressible) and half random (incompressible).
//
// The tree is a pure function of Params: names, sizes, placement and
// content depend only on the seed, never on how the writers are scheduled.
// (Modification times are whatever the writes leave.)
package gentree

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
)

// Size classes.
const (
	SmallMax  = 16 << 10  // small files are [0, SmallMax)
	MediumMin = 100 << 10 // medium files are [MediumMin, MediumMax], log-uniform
	MediumMax = 10 << 20
	LargeMin  = 50 << 20 // large files are [LargeMin, LargeMax], uniform
	LargeMax  = 200 << 20
)

// Params describe a tree.
type Params struct {
	Files   int   // regular files, exactly
	Bytes   int64 // content bytes wanted; reached within a fraction of a percent
	Atoms   int   // top-level directories; 0: Files/2000 clamped to [50, 200] (fewer for tiny trees)
	Seed    uint64
	Workers int // concurrent writers; 0: 2 per CPU, at least 4
}

// Stats describe what Build wrote.
type Stats struct {
	Files       int   `json:"files"`
	Dirs        int   `json:"dirs"` // including the atoms, not the root
	Atoms       int   `json:"atoms"`
	Loose       int   `json:"loose"` // files directly in the root (one more atom for gb)
	Bytes       int64 `json:"bytes"`
	TextBytes   int64 `json:"text_bytes"`
	RandomBytes int64 `json:"random_bytes"`
	Small       int   `json:"small"`
	Medium      int   `json:"medium"`
	Large       int   `json:"large"`
}

type file struct {
	idx  uint64
	path string
	size int64
	text bool
}

// Build creates the tree under root, which must not exist or be empty.
func Build(root string, p Params) (Stats, error) {
	var st Stats
	if p.Files < 1 {
		return st, errors.New("gentree: Files must be at least 1")
	}
	if p.Bytes < 0 {
		return st, errors.New("gentree: Bytes must not be negative")
	}
	if ents, err := os.ReadDir(root); err == nil && len(ents) > 0 {
		return st, fmt.Errorf("gentree: %s is not empty", root)
	}
	dirs, files, st := layout(root, p)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return st, err
	}
	for _, d := range dirs {
		if err := os.Mkdir(d, 0o755); err != nil {
			return st, err
		}
	}
	return st, write(files, p)
}

// layout decides every directory (parents before children) and file of the
// tree without touching the disk.
func layout(root string, p Params) (dirs []string, files []file, st Stats) {
	r := rand.New(rand.NewPCG(p.Seed, 0x67656e74726565)) // "gentree"
	sizes, classes := sizePlan(r, p)

	atoms := p.Atoms
	if atoms <= 0 {
		atoms = min(max(p.Files/2000, 50), 200)
		atoms = min(atoms, max(p.Files/20, 1)) // tiny trees: ~20 files per atom
	}
	st.Atoms = atoms
	// Atoms differ in size: log-normal weights.
	weights := make([]float64, atoms)
	cum := 0.0
	for i := range weights {
		cum += math.Exp(r.NormFloat64())
		weights[i] = cum
	}
	pickAtom := func() int {
		return min(sort.SearchFloat64s(weights, r.Float64()*cum), atoms-1)
	}
	// A few loose files directly in the root.
	st.Loose = min(p.Files/100, 20)
	perAtom := make([]int, atoms)
	owner := make([]int, len(sizes)) // -1: loose
	for i := range sizes {
		if i < st.Loose {
			owner[i] = -1
			continue
		}
		owner[i] = pickAtom()
		perAtom[owner[i]]++
	}
	// Nested directories: one per ~40 files, each under a random earlier
	// directory of its atom no deeper than 6 levels.
	type dir struct {
		path  string
		depth int
		subs  int
	}
	atomDirs := make([][]*dir, atoms)
	for a := range atoms {
		top := &dir{path: filepath.Join(root, fmt.Sprintf("%s-%03d", atomNames[a%len(atomNames)], a))}
		dirs = append(dirs, top.path)
		atomDirs[a] = []*dir{top}
		for range perAtom[a] / 40 {
			var parent *dir
			for parent == nil || parent.depth >= 6 {
				parent = atomDirs[a][r.IntN(len(atomDirs[a]))]
			}
			parent.subs++
			d := &dir{path: filepath.Join(parent.path, fmt.Sprintf("%s-%02d", subNames[r.IntN(len(subNames))], parent.subs)), depth: parent.depth + 1}
			atomDirs[a] = append(atomDirs[a], d)
			dirs = append(dirs, d.path)
		}
	}
	st.Dirs = len(dirs)
	// Half the bytes text, half random: biggest files first, each to the
	// kind that has fewer bytes so far.
	order := make([]int, len(sizes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return sizes[order[i]] > sizes[order[j]] })
	text := make([]bool, len(sizes))
	for _, i := range order {
		if st.TextBytes <= st.RandomBytes {
			text[i] = true
			st.TextBytes += sizes[i]
		} else {
			st.RandomBytes += sizes[i]
		}
	}
	for i, size := range sizes {
		parent := root
		if owner[i] >= 0 {
			ds := atomDirs[owner[i]]
			parent = ds[r.IntN(len(ds))].path
		}
		ext := "bin"
		if text[i] {
			ext = "txt"
		}
		name := fmt.Sprintf("%s-%06d.%s", fileNames[r.IntN(len(fileNames))], i, ext)
		files = append(files, file{idx: uint64(i), path: filepath.Join(parent, name), size: size, text: text[i]})
		st.Bytes += size
		switch classes[i] {
		case 's':
			st.Small++
		case 'm':
			st.Medium++
		default:
			st.Large++
		}
	}
	st.Files = len(files)
	return dirs, files, st
}

// sizePlan returns p.Files sizes summing to about p.Bytes, with their
// classes ('s', 'm', 'l'). Small files get up to 40% of the budget (mean
// at most 4 KiB); the rest is split between large files (when half of it
// holds at least one) and medium files.
func sizePlan(r *rand.Rand, p Params) ([]int64, []byte) {
	mean := min(4096, 0.4*float64(p.Bytes)/float64(p.Files))
	small := make([]int64, p.Files)
	var smallSum int64
	for i := range small {
		s := int64(SmallMax)
		for mean > 0 && s >= SmallMax {
			s = int64(r.ExpFloat64() * mean)
		}
		if mean <= 0 {
			s = 0
		}
		small[i] = s
		smallSum += s
	}
	rest := p.Bytes - smallSum
	var large, medium []int64
	if budget := rest / 2; budget >= LargeMin {
		var sum int64
		for budget-sum >= LargeMin {
			s := min(LargeMin+r.Int64N(LargeMax-LargeMin+1), budget-sum)
			large = append(large, s)
			sum += s
		}
		rest -= sum
	}
	for rest > 0 && len(large)+len(medium) < p.Files-1 {
		s := int64(math.Exp(math.Log(MediumMin) + r.Float64()*(math.Log(MediumMax)-math.Log(MediumMin))))
		s = min(s, rest)
		medium = append(medium, s)
		rest -= s
	}
	// Medium and large files replace small ones; give their bytes back.
	keep := p.Files - len(large) - len(medium)
	for _, s := range small[keep:] {
		rest += s
	}
	small = small[:keep]
	if rest > 0 && len(medium) > 0 {
		medium[len(medium)-1] += rest
	}
	// Interleave the classes so big files land anywhere in the index order.
	sizes := make([]int64, 0, p.Files)
	classes := make([]byte, 0, p.Files)
	for _, s := range small {
		sizes, classes = append(sizes, s), append(classes, 's')
	}
	for _, s := range medium {
		sizes, classes = append(sizes, s), append(classes, 'm')
	}
	for _, s := range large {
		sizes, classes = append(sizes, s), append(classes, 'l')
	}
	// Keep the few loose files (the first indexes) small.
	loose := min(p.Files/100, 20)
	r.Shuffle(len(sizes)-loose, func(i, j int) {
		i, j = i+loose, j+loose
		sizes[i], sizes[j] = sizes[j], sizes[i]
		classes[i], classes[j] = classes[j], classes[i]
	})
	return sizes, classes
}

func write(files []file, p Params) error {
	workers := p.Workers
	if workers <= 0 {
		workers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	// Biggest first so no worker is left with a 200 MB file at the end.
	order := make([]int, len(files))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return files[order[i]].size > files[order[j]].size })
	jobs := make(chan *file)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4<<20)
			for f := range jobs {
				if err := writeFile(f, p.Seed, buf); err != nil {
					errs <- err
					for range jobs {
					}
					return
				}
			}
		}()
	}
	for _, i := range order {
		jobs <- &files[i]
	}
	close(jobs)
	wg.Wait()
	close(errs)
	return <-errs
}

func writeFile(f *file, seed uint64, buf []byte) error {
	out, err := os.OpenFile(f.path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	var fill func([]byte)
	if f.text {
		t := newText(seed, f.idx)
		fill = t.fill
	} else {
		var key [32]byte
		binary.LittleEndian.PutUint64(key[0:], seed)
		binary.LittleEndian.PutUint64(key[8:], f.idx)
		copy(key[16:], "gentree-random!!")
		c := rand.NewChaCha8(key)
		fill = func(b []byte) { _, _ = c.Read(b) }
	}
	for left := f.size; left > 0; {
		n := min(left, int64(len(buf)))
		fill(buf[:n])
		if _, err := out.Write(buf[:n]); err != nil {
			out.Close()
			return err
		}
		left -= n
	}
	return out.Close()
}

// Text-like content: words of a fixed made-up vocabulary drawn with a
// Zipf-like frequency, lines of about a dozen words. zstd -1 shrinks it
// about 3-4x; no two files share long runs.
var (
	vocabOnce sync.Once
	vocab     [][]byte // each word with its trailing separator
	wordTable [1 << 16]uint16
)

func initVocab() {
	r := rand.New(rand.NewPCG(1, 2))
	syll := []string{"ka", "to", "re", "mi", "lun", "sa", "vor", "en", "di", "qua", "pe", "ro", "tal", "ne", "bi", "sho", "gra", "u", "fel", "os", "ti", "mar", "le", "zu", "an", "cor", "ith", "pla", "de", "nu"}
	const words = 4096
	seen := map[string]bool{}
	for len(vocab) < words {
		n := 1 + r.IntN(4)
		w := ""
		for range n {
			w += syll[r.IntN(len(syll))]
		}
		if seen[w] {
			continue
		}
		seen[w] = true
		vocab = append(vocab, []byte(w))
	}
	// wordTable maps 16 random bits to a word, word k with weight 1/(k+1).
	var h float64
	for k := range words {
		h += 1 / float64(k+1)
	}
	pos := 0
	for k := range words {
		n := int(math.Round(float64(len(wordTable)) / float64(k+1) / h))
		for ; n > 0 && pos < len(wordTable); n-- {
			wordTable[pos] = uint16(k)
			pos++
		}
	}
	for ; pos < len(wordTable); pos++ {
		wordTable[pos] = uint16(r.IntN(words))
	}
}

type text struct {
	r       *rand.PCG
	pending []byte // rest of a word that did not fit the last buffer
	line    int
}

func newText(seed, idx uint64) *text {
	vocabOnce.Do(initVocab)
	return &text{r: rand.NewPCG(seed^0x74657874, idx)}
}

func (t *text) fill(b []byte) {
	n := copy(b, t.pending)
	t.pending = t.pending[n:]
	var word [64]byte
	for n < len(b) {
		x := t.r.Uint64()
		for k := 0; k < 4 && n < len(b); k++ {
			w := append(word[:0], vocab[wordTable[x&0xffff]]...)
			x >>= 16
			t.line++
			switch {
			case t.line >= 12 && x&3 == 0:
				w = append(w, '.', '\n')
				t.line = 0
			case x&15 == 1:
				w = append(w, ',', ' ')
			default:
				w = append(w, ' ')
			}
			c := copy(b[n:], w)
			n += c
			if c < len(w) {
				t.pending = append(t.pending[:0], w[c:]...)
			}
		}
	}
}

var (
	atomNames = []string{"projects", "photos", "mail", "music", "papers", "code", "scans", "taxes", "video", "backup", "notes", "clients"}
	subNames  = []string{"2019", "2020", "2021", "2022", "2023", "draft", "final", "old", "raw", "misc", "src", "assets", "export", "archive"}
	fileNames = []string{"report", "img", "data", "notes", "log", "page", "track", "invoice", "chunk", "draft", "scan", "table"}
)
