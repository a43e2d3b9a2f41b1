//go:build !linux

package main

import (
	"errors"
	"os"
)

// isTerminal is false where echo cannot be turned off: the password is then read as
// a line of standard input (use --password-stdin, or give it as an argument).
func isTerminal(*os.File) bool { return false }

func readNoEcho(*os.File) (string, error) { return "", errors.ErrUnsupported }
