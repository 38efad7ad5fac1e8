/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for src/codec (placeholder while being written). */
int main(void) { return 0; }
