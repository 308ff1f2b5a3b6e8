/* CSV reader (header detection, separators, label column, errors with
 * file:line:column) and writer (exact round trip, quoting). */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "io/io.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>


/* Writes text to test_tmpdir/name and returns the path. */
static const char *put(const char *name, const char *text)
{
    const char *p = test_path(name);
    FILE *f = fopen(p, "wb");
    if (!f || fputs(text, f) < 0) {
        perror(p);
        exit(1);
    }
    fclose(f);
    return p;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static void test_header_label_by_name(void)
{
    const char *p = put("a.csv", "\xEF\xBB\xBF" "x1,y,x2\r\n"
                                 "1.5,3,-2\r\n"
                                 "\r\n"
                                 "  \n"
                                 "0, 7 ,1e-3\r\n"
                                 "-4,0,  5\n");
    aecl_csv_opts o = {0};
    o.label_name = "y";
    aecl_csv c;
    CHECK_OK(NULL, aecl_csv_read(NULL, p, &o, &c));
    CHECK(c.rows == 3 && c.cols == 2 && c.sep == ',');
    CHECK(c.names && strcmp(c.names[0], "x1") == 0 && strcmp(c.names[1], "x2") == 0);
    CHECK(c.label_name && strcmp(c.label_name, "y") == 0);
    static const float want[6] = {1.5f, -2, 0, 1e-3f, -4, 5};
    for (int i = 0; c.data && i < 6; i++) CHECK(c.data[i] == want[i]);
    CHECK(c.labels && c.labels[0] == 3 && c.labels[1] == 7 && c.labels[2] == 0);
    CHECK(c.label_ints && c.label_ints[0] == 3 && c.label_ints[1] == 7 && c.label_ints[2] == 0);
    aecl_csv_free(&c);
    aecl_csv_free(&c);

    /* Same file, no label asked: 3 feature columns. */
    CHECK_OK(NULL, aecl_csv_read(NULL, p, NULL, &c));
    CHECK(c.rows == 3 && c.cols == 3 && c.labels == NULL && c.label_name == NULL);
    CHECK(c.names && strcmp(c.names[1], "y") == 0);
    CHECK(c.data && c.data[4] == 7);
    aecl_csv_free(&c);
}

static void test_separators(void)
{
    aecl_csv c;
    aecl_csv_opts o = {0};
    o.has_label = 1;
    o.label_index = -1;
    const char *p = put("semi.csv", "1;2;0.25\n3;4;1.75\n");
    CHECK_OK(NULL, aecl_csv_read(NULL, p, &o, &c));
    CHECK(c.sep == ';' && c.rows == 2 && c.cols == 2 && c.names == NULL);
    CHECK(c.data && c.data[0] == 1 && c.data[3] == 4);
    CHECK(c.labels && c.labels[0] == 0.25f && c.labels[1] == 1.75f);
    CHECK(c.label_ints == NULL);   /* labels are not integers */
    aecl_csv_free(&c);

    o.label_index = 0;
    p = put("tab.tsv", "a\tb\tc\n5\t6\t7\n8\t9\t10\n");
    CHECK_OK(NULL, aecl_csv_read(NULL, p, &o, &c));
    CHECK(c.sep == '\t' && c.rows == 2 && c.cols == 2);
    CHECK(c.label_ints && c.label_ints[0] == 5 && c.label_ints[1] == 8);
    CHECK(c.names && strcmp(c.names[0], "b") == 0 && strcmp(c.label_name, "a") == 0);
    CHECK(c.data && c.data[0] == 6 && c.data[3] == 10);
    aecl_csv_free(&c);

    /* One column, no separator anywhere, no trailing newline. */
    p = put("one.csv", "1\n2\n3");
    CHECK_OK(NULL, aecl_csv_read(NULL, p, NULL, &c));
    CHECK(c.rows == 3 && c.cols == 1 && c.data && c.data[2] == 3);
    aecl_csv_free(&c);
}

static void test_header_modes(void)
{
    aecl_csv c;
    aecl_csv_opts o = {0};
    const char *p = put("num.csv", "0,1,2\n3,4,5\n");
    CHECK_OK(NULL, aecl_csv_read(NULL, p, NULL, &c));   /* auto: numeric -> data */
    CHECK(c.rows == 2 && c.names == NULL);
    aecl_csv_free(&c);
    o.header = AECL_CSV_HEADER_YES;                      /* pandas-style numeric names */
    CHECK_OK(NULL, aecl_csv_read(NULL, p, &o, &c));
    CHECK(c.rows == 1 && c.names && strcmp(c.names[2], "2") == 0);
    CHECK(c.data && c.data[0] == 3);
    aecl_csv_free(&c);

    /* Quoted names with separators and quotes inside. */
    p = put("quoted.csv", "\"a,b\",\"say \"\"hi\"\"\", plain \n1,2,3\n");
    CHECK_OK(NULL, aecl_csv_read(NULL, p, NULL, &c));
    CHECK(c.cols == 3 && c.names && strcmp(c.names[0], "a,b") == 0);
    CHECK(c.names && strcmp(c.names[1], "say \"hi\"") == 0 && strcmp(c.names[2], "plain") == 0);
    aecl_csv_free(&c);

    /* gzip-compressed input. */
    gzFile g = gzopen(test_path("z.csv.gz"), "wb");
    gzputs(g, "u,v\n1,2\n3,4\n5,6\n");
    gzclose(g);
    CHECK_OK(NULL, aecl_csv_read(NULL, test_path("z.csv.gz"), NULL, &c));
    CHECK(c.rows == 3 && c.cols == 2 && c.data && c.data[5] == 6);
    aecl_csv_free(&c);
}

static void test_errors(void)
{
    aecl_csv c;
    aecl_csv_opts o = {0};
    CHECK_FAIL(aecl_csv_read(NULL, test_path("missing.csv"), NULL, &c), AECL_ERR_IO, "missing.csv");
    const char *p = put("fields.csv", "a,b,c,d,e,f\n1,2,3,4,5,6\n\n1,2,3,4,5,6\n"
                                      "1,2,3,4,5,6\n1,2,3,4,5,6\n1,2,3,4,5\n");
    CHECK_FAIL(aecl_csv_read(NULL, p, NULL, &c), AECL_ERR_FORMAT,
               "fields.csv:7: row has 5 fields, expected 6");
    CHECK(c.data == NULL && c.rows == 0);   /* zeroed on failure */
    p = put("bad.csv", "1,2,3\n4,abc,6\n");
    CHECK_FAIL(aecl_csv_read(NULL, p, NULL, &c), AECL_ERR_FORMAT,
               "bad.csv:2:3: field 2 'abc' is not a number");
    p = put("partial.csv", "1,2,3\n4,5x,6\n");
    CHECK_FAIL(aecl_csv_read(NULL, p, NULL, &c), AECL_ERR_FORMAT, "partial.csv:2:3: field 2 '5x'");
    p = put("empty_field.csv", "1,2,3\n4,,6\n");
    CHECK_FAIL(aecl_csv_read(NULL, p, NULL, &c), AECL_ERR_FORMAT,
               "empty_field.csv:2:3: field 2 is empty");
    p = put("trailing.csv", "1,2,3,\n");
    o.header = AECL_CSV_HEADER_NO;   /* auto would take this lone row for a header */
    CHECK_FAIL(aecl_csv_read(NULL, p, &o, &c), AECL_ERR_FORMAT, "trailing.csv:1:7: field 4 is empty");
    memset(&o, 0, sizeof o);
    p = put("nan.csv", "1,2\n3,nan\n");
    CHECK_FAIL(aecl_csv_read(NULL, p, NULL, &c), AECL_ERR_FORMAT, "nan.csv:2:3: field 2 'nan' is not a finite");
    p = put("big.csv", "1,2\n3,1e999\n");
    CHECK_FAIL(aecl_csv_read(NULL, p, NULL, &c), AECL_ERR_FORMAT, "'1e999' is not a finite");
    /* Control characters of a field are quoted escaped: a file cannot clear the
     * terminal that shows the message. */
    p = put("ctl.csv", "1,2\n3,\"4\x1b[2J\x7f\"\n");
    CHECK_FAIL(aecl_csv_read(NULL, p, NULL, &c), AECL_ERR_FORMAT, "field 2 '4\\x1b[2J\\x7f' is not a number");
    CHECK(!strchr(aecl_ctx_last_error(NULL), '\x1b') && !strchr(aecl_ctx_last_error(NULL), '\x7f'));
    p = put("quote.csv", "a,\"b\n1,2\n");
    CHECK_FAIL(aecl_csv_read(NULL, p, NULL, &c), AECL_ERR_FORMAT, "quote.csv:1:3: unterminated quote");
    p = put("after.csv", "\"a\"x,b\n1,2\n");
    CHECK_FAIL(aecl_csv_read(NULL, p, NULL, &c), AECL_ERR_FORMAT,
               "after.csv:1:4: text after a closing quote");
    p = put("hdr_only.csv", "a,b\n\n");
    CHECK_FAIL(aecl_csv_read(NULL, p, NULL, &c), AECL_ERR_FORMAT, "no data rows after the header");
    p = put("blank.csv", "\n \r\n");
    CHECK_FAIL(aecl_csv_read(NULL, p, NULL, &c), AECL_ERR_FORMAT, "blank.csv: no data rows");

    p = put("lab.csv", "a,b\n1,2\n");
    o.label_name = "y";
    CHECK_FAIL(aecl_csv_read(NULL, p, &o, &c), AECL_ERR_FORMAT, "lab.csv:1: no column named 'y'");
    o.label_name = "a";
    o.header = AECL_CSV_HEADER_NO;
    CHECK_FAIL(aecl_csv_read(NULL, p, &o, &c), AECL_ERR_FORMAT, "no header row");
    memset(&o, 0, sizeof o);
    o.has_label = 1;
    o.label_index = 2;
    CHECK_FAIL(aecl_csv_read(NULL, p, &o, &c), AECL_ERR_INVALID_ARG, "label column 2 does not exist");
    o.label_index = -3;
    CHECK_FAIL(aecl_csv_read(NULL, p, &o, &c), AECL_ERR_INVALID_ARG, "label column -3");
    memset(&o, 0, sizeof o);
    o.sep = '|';
    CHECK_FAIL(aecl_csv_read(NULL, p, &o, &c), AECL_ERR_INVALID_ARG, "separator");
    /* A forced separator that the file does not use gives one column, then a
     * number error naming the text. */
    o.sep = ';';
    o.header = AECL_CSV_HEADER_NO;
    CHECK_FAIL(aecl_csv_read(NULL, put("comma.csv", "1,2\n"), &o, &c), AECL_ERR_FORMAT,
               "comma.csv:1:1: field 1 '1,2' is not a number");
}

static void test_write(void)
{
    /* Exact text for simple values. */
    const float m[6] = {0.1f, 1.0f, -2.5f, 1e-8f, 3.14159274f, 100000.0f};
    const char *names[3] = {"z0", "a,b", "say \"x\""};
    const int32_t labels[2] = {7, -1};
    const char *p = test_path("w.csv");
    CHECK_OK(NULL, aecl_csv_write(NULL, p, m, 2, 3, names, labels, "class"));
    const char *text = slurp(p);
    CHECK_MSG(text && strcmp(text, "z0,\"a,b\",\"say \"\"x\"\"\",class\n"
                                   "0.1,1,-2.5,7\n"
                                   "1e-08,3.1415927,100000,-1\n") == 0, "got:\n%s", text);
    aecl_csv_opts o = {0};
    o.label_name = "class";
    aecl_csv c;
    CHECK_OK(NULL, aecl_csv_read(NULL, p, &o, &c));
    CHECK(c.rows == 2 && c.cols == 3 && c.names && strcmp(c.names[2], names[2]) == 0);
    for (int i = 0; c.data && i < 6; i++) CHECK(c.data[i] == m[i]);
    CHECK(c.label_ints && c.label_ints[0] == 7 && c.label_ints[1] == -1);
    aecl_csv_free(&c);

    /* Random floats round-trip bit for bit; no header, no labels. */
    enum { R = 50, C = 33 };
    static float big[R * C];
    unsigned s = 12345;
    test_fill_uniform(big, R * C, -1000.0f, 1000.0f, &s);
    for (int i = 0; i < R * C; i += 7) big[i] *= 1e-30f;
    p = test_path("big.csv");
    CHECK_OK(NULL, aecl_csv_write(NULL, p, big, R, C, NULL, NULL, NULL));
    CHECK_OK(NULL, aecl_csv_read(NULL, p, NULL, &c));
    CHECK(c.rows == R && c.cols == C && c.names == NULL);
    int same = c.data != NULL;
    for (int i = 0; same && i < R * C; i++) same = c.data[i] == big[i];
    CHECK_MSG(same, "CSV round trip changed values");
    aecl_csv_free(&c);

    /* Labels only (an index column), default label name. */
    const char *none[1] = {NULL};
    CHECK_OK(NULL, aecl_csv_write(NULL, test_path("l.csv"), NULL, 2, 0, none, labels, NULL));
    text = slurp(test_path("l.csv"));
    CHECK_MSG(text && strcmp(text, "label\n7\n-1\n") == 0, "got:\n%s", text);

    /* Writing into a missing folder fails and names the path. */
    char bad[1100];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.csv", test_tmpdir);
    CHECK_FAIL(aecl_csv_write(NULL, bad, m, 2, 3, NULL, NULL, NULL), AECL_ERR_IO, "x.csv");
    CHECK_FAIL(aecl_csv_write(NULL, test_path("n.csv"), NULL, 2, 3, NULL, NULL, NULL),
               AECL_ERR_INVALID_ARG, "data is NULL");
}

int main(void)
{
    test_tmp_setup("io_csv");
    test_header_label_by_name();
    test_separators();
    test_header_modes();
    test_errors();
    test_write();
    test_tmp_cleanup();
    return test_finish();
}
