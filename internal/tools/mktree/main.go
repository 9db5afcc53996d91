package main

import (
	"github.com/gbarchive/gb/internal/testtree"
	"os"
	"strconv"
)

func main() {
	n, _ := strconv.ParseInt(os.Args[2], 10, 64)
	if err := testtree.Make(os.Args[1], n); err != nil {
		panic(err)
	}
}
