#ifndef CRENAMENOREPLACE_H
#define CRENAMENOREPLACE_H

// Renames without replacing an existing destination (renameat2 RENAME_NOREPLACE): -1 with errno.
// In C because Swift's Glibc does not export renameat2 and cannot call the variadic syscall(2).
int rename_noreplace(const char *from, const char *to);

#endif
