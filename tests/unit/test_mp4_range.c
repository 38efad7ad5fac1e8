/* SPDX-License-Identifier: GPL-3.0-or-later
 * Placeholder while the mp4 tests are written. */
int main(void) { return 0; }
