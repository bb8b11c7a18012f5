/* libedit (BSD-3-Clause) for `cdsync repl`: the readline-compatible API and the native one.
 * Never GNU readline (GPL). Swift 6 cannot touch libedit's mutable globals directly, so the
 * few the REPL needs are set through these accessors. */
#ifndef CEDITLINE_H
#define CEDITLINE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <editline/readline.h>
#include <histedit.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Installs the completion hook; libedit calls it with the word being completed and its bounds. */
static inline void ceditline_set_completion(rl_completion_func_t *function) {
    rl_attempted_completion_function = function;
    rl_completion_append_character = '\0';
}

/* Tells libedit not to fall back to file-name completion after the hook ran. */
static inline void ceditline_completion_over(void) { rl_attempted_completion_over = 1; }

/* The whole line being edited (valid inside the completion hook). */
static inline const char *ceditline_line_buffer(void) { return rl_line_buffer; }

/* Replaces how libedit reads a character (before the first readline call). */
static inline void ceditline_set_getc(int (*function)(FILE *)) { rl_getc_function = function; }

/* Names the application ("cdsync" sections in ~/.editrc) and sets the characters that end
 * the word being completed: `.` and `:` do not, so `cds.ups` completes as one word. */
static inline void ceditline_configure(void) {
    static char word_breaks[] = " \t\n\"'`@$><=;|&{(,[+-*/%^~#";
    rl_readline_name = "cdsync";
    rl_catch_signals = 0; /* Ctrl-C reaches cdsync's own handler: the line is dropped, not the REPL */
    rl_basic_word_break_characters = word_breaks;
    rl_completer_word_break_characters = word_breaks;
}

/* The width of the terminal on fd in columns, 0 when fd is not a terminal. */
static inline int ceditline_terminal_width(int fd) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return 0;
    return size.ws_col;
}

#endif
