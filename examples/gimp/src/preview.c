#include "preview.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <stdio.h>
#include <sys/stat.h>

/* The thumbnail's longer side on screen: the daemon's preview has one pixel per latent cell (1/8 of the
 * image), too small to look at as it is. */
#define SHOWN_SIDE 192

struct Preview {
    gchar *method;
    gchar *path;
    gboolean show;
    /* The file last decoded: the daemon replaces it by rename, so a new picture is a new inode or mtime. */
    gboolean seen;
    dev_t device;
    ino_t inode;
    struct timespec mtime;
    off_t size;
    GtkWidget *window, *image, *label, *cancel;
    GCancellable *cancellable;
    gboolean test_cancel_armed;
    guint test_cancel_source;
};

static void pump_events(Preview *p)
{
    if (!p->show)
        return;
    while (gtk_events_pending())
        gtk_main_iteration();
}

static void on_cancel(GtkButton *button, gpointer user_data)
{
    Preview *p = user_data;
    gtk_label_set_text(GTK_LABEL(p->label), "cancelling\xe2\x80\xa6");
    gtk_widget_set_sensitive(p->cancel, FALSE);
    g_cancellable_cancel(p->cancellable);
}

static gboolean press_cancel(gpointer user_data)
{
    Preview *p = user_data;
    p->test_cancel_source = 0;
    gtk_button_clicked(GTK_BUTTON(p->cancel));
    return G_SOURCE_REMOVE;
}

Preview *preview_new(const gchar *method, const gchar *path, gboolean show)
{
    Preview *p = g_new0(Preview, 1);
    p->method = g_strdup(method);
    p->path = g_strdup(path);
    p->show = show;
    if (show) {
        gchar *title = g_strdup_printf("diffusiond %s", method);
        p->window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
        gtk_window_set_title(GTK_WINDOW(p->window), title);
        gtk_window_set_role(GTK_WINDOW(p->window), "diffusiond-preview");
        gtk_window_set_resizable(GTK_WINDOW(p->window), FALSE);
        g_free(title);
        /* Closing it only hides it; the job goes on (its Cancel button, or GIMP's progress, cancels it). */
        g_signal_connect(p->window, "delete-event", G_CALLBACK(gtk_widget_hide_on_delete), NULL);
        GtkWidget *box = gtk_vbox_new(FALSE, 6);
        gtk_container_set_border_width(GTK_CONTAINER(box), 12);
        p->image = gtk_image_new();
        gtk_widget_set_size_request(p->image, SHOWN_SIDE, SHOWN_SIDE);
        p->label = gtk_label_new("waiting for the first preview\xe2\x80\xa6");
        gtk_label_set_width_chars(GTK_LABEL(p->label), 36);
        gtk_label_set_ellipsize(GTK_LABEL(p->label), PANGO_ELLIPSIZE_END);
        gtk_box_pack_start(GTK_BOX(box), p->image, TRUE, TRUE, 0);
        gtk_box_pack_start(GTK_BOX(box), p->label, FALSE, FALSE, 0);
        p->cancellable = g_cancellable_new();
        p->cancel = gtk_button_new_with_mnemonic("_Cancel");
        g_signal_connect(p->cancel, "clicked", G_CALLBACK(on_cancel), p);
        GtkWidget *buttons = gtk_hbutton_box_new();
        gtk_button_box_set_layout(GTK_BUTTON_BOX(buttons), GTK_BUTTONBOX_END);
        gtk_box_pack_start(GTK_BOX(buttons), p->cancel, FALSE, FALSE, 0);
        gtk_box_pack_start(GTK_BOX(box), buttons, FALSE, FALSE, 0);
        const gchar *test = g_getenv("DIFFUSIOND_GIMP_PREVIEW_TEST_CANCEL");
        p->test_cancel_armed = test != NULL && test[0] != '\0';
        gtk_container_add(GTK_CONTAINER(p->window), box);
        gimp_window_set_transient(GTK_WINDOW(p->window));
        gtk_widget_show_all(p->window);
        pump_events(p);
    }
    return p;
}

/* FNV-1a over the R, G, B samples, row by row: lets the test compare the decoded pixels with the daemon's file. */
static guint32 rgb_checksum(GdkPixbuf *pixbuf)
{
    gint w = gdk_pixbuf_get_width(pixbuf), h = gdk_pixbuf_get_height(pixbuf);
    gint channels = gdk_pixbuf_get_n_channels(pixbuf), stride = gdk_pixbuf_get_rowstride(pixbuf);
    const guchar *pixels = gdk_pixbuf_read_pixels(pixbuf);
    guint32 hash = 2166136261u;
    for (gint y = 0; y < h; y++)
        for (gint x = 0; x < w; x++)
            for (gint c = 0; c < 3; c++) {
                hash ^= pixels[(gsize)y * stride + (gsize)x * channels + c];
                hash *= 16777619u;
            }
    return hash;
}

static void log_preview(Preview *p, GdkPixbuf *pixbuf)
{
    const gchar *log = g_getenv("DIFFUSIOND_GIMP_PREVIEW_LOG");
    if (log == NULL || log[0] == '\0')
        return;
    FILE *f = fopen(log, "a");
    if (f == NULL)
        return;
    fprintf(f, "%s %dx%d %s %08x\n", p->method, gdk_pixbuf_get_width(pixbuf), gdk_pixbuf_get_height(pixbuf),
            p->show ? "shown" : "decoded", rgb_checksum(pixbuf));
    fclose(f);
}

static gboolean replaced(Preview *p)
{
    struct stat st;
    if (stat(p->path, &st) != 0)
        return FALSE;  /* not written yet */
    gboolean same = p->seen && st.st_dev == p->device && st.st_ino == p->inode && st.st_size == p->size &&
                    st.st_mtim.tv_sec == p->mtime.tv_sec && st.st_mtim.tv_nsec == p->mtime.tv_nsec;
    p->seen = TRUE;
    p->device = st.st_dev;
    p->inode = st.st_ino;
    p->size = st.st_size;
    p->mtime = st.st_mtim;
    return !same;
}

static void show(Preview *p, GdkPixbuf *pixbuf)
{
    gint w = gdk_pixbuf_get_width(pixbuf), h = gdk_pixbuf_get_height(pixbuf);
    gdouble factor = (gdouble)SHOWN_SIDE / MAX(w, h);
    GdkPixbuf *scaled = gdk_pixbuf_scale_simple(pixbuf, MAX(1, (gint)(w * factor + 0.5)),
                                                MAX(1, (gint)(h * factor + 0.5)), GDK_INTERP_BILINEAR);
    if (scaled != NULL) {
        gtk_image_set_from_pixbuf(GTK_IMAGE(p->image), scaled);
        g_object_unref(scaled);
    }
}

void preview_refresh(Preview *p, const gchar *text)
{
    if (p == NULL)
        return;
    if (p->show && text != NULL)
        gtk_label_set_text(GTK_LABEL(p->label), text);
    if (replaced(p)) {
        /* A picture that cannot be read (a daemon bug, a full disk) only costs the thumbnail, never the job. */
        GdkPixbuf *pixbuf = gdk_pixbuf_new_from_file(p->path, NULL);
        if (pixbuf != NULL) {
            log_preview(p, pixbuf);
            if (p->show) {
                show(p, pixbuf);
                if (p->test_cancel_armed) {
                    p->test_cancel_armed = FALSE;
                    p->test_cancel_source = g_timeout_add(50, press_cancel, p);
                }
            }
            g_object_unref(pixbuf);
        }
    }
    pump_events(p);
}

void preview_pump(gpointer preview)
{
    if (preview != NULL)
        pump_events(preview);
}

GCancellable *preview_cancellable(Preview *p)
{
    return p != NULL ? p->cancellable : NULL;
}

void preview_free(Preview *p)
{
    if (p == NULL)
        return;
    if (p->test_cancel_source != 0)
        g_source_remove(p->test_cancel_source);
    if (p->window != NULL) {
        gtk_widget_destroy(p->window);
        pump_events(p);
    }
    g_clear_object(&p->cancellable);
    g_free(p->method);
    g_free(p->path);
    g_free(p);
}
