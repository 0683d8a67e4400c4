#ifndef CDATASAN_PNG_H
#define CDATASAN_PNG_H
// Placeholder: the PNG decoding shim (owns libpng's setjmp) goes here.
int datasan_png_placeholder(void);
#endif
