/* SPDX-License-Identifier: GPL-3.0-or-later
 * Reel's live view (placeholder until the grid lands). */
'use strict';
window.reelLive = {
  mountGrid() {},
  mountCamera() {},
  update() {},
  unmount() {},
};
