; GIMP batch scenarios for the diffusiond plug-in (run by scripts/test_gimp.sh, one gimp-console per scenario).
; Each prints facts as "FACT key=value" (gimp-message goes to the console) and exports PNGs into OUT;
; check.py then compares them with the daemon's own outputs.

(define (fact key value) (gimp-message (string-append "FACT " key "=" value)))
(define (num n) (number->string n))
(define (path out name) (string-append out "/" name))

(define (save-drawable img drawable file)
  (file-png-save2 RUN-NONINTERACTIVE img drawable file file 0 9 0 0 0 0 0 0 0))

; The image as the user sees it (all visible layers over the canvas) into FILE.
(define (save-composite img file)
  (let* ((copy (car (gimp-image-duplicate img)))
         (merged (car (gimp-image-merge-visible-layers copy CLIP-TO-IMAGE))))
    (save-drawable copy merged file)
    (gimp-image-delete copy)))

(define (open-png file)
  (let* ((img (car (gimp-file-load RUN-NONINTERACTIVE file file))))
    (list img (car (gimp-image-get-active-layer img)))))

(define (layer-facts prefix img layer)
  (let ((offsets (gimp-drawable-offsets layer))
        (layers (gimp-image-get-layers img)))
    (fact (string-append prefix ".name") (car (gimp-item-get-name layer)))
    (fact (string-append prefix ".size") (string-append (num (car (gimp-drawable-width layer))) "x"
                                                        (num (car (gimp-drawable-height layer)))))
    (fact (string-append prefix ".offsets") (string-append (num (car offsets)) "," (num (cadr offsets))))
    (fact (string-append prefix ".canvas") (string-append (num (car (gimp-image-width img))) "x"
                                                          (num (car (gimp-image-height img)))))
    (fact (string-append prefix ".layers") (num (car layers)))
    (fact (string-append prefix ".on-top") (if (= (aref (cadr layers) 0) layer) "yes" "no"))))

(define (parasite-fact key layer)
  (let ((p (gimp-item-get-parasite layer "diffusiond-parameters")))
    (fact key (caddr (car p)))))

(define (scenario-generate out fix)
  (let* ((img (car (gimp-image-new 64 48 RGB)))
         (bg (car (gimp-layer-new img 64 48 RGB-IMAGE "bg" 100 LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer img bg 0 0)
    (gimp-drawable-fill bg FILL-WHITE)
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 8 4 48 40)
    (let ((layer (car (plug-in-diffusiond-generate RUN-NONINTERACTIVE img bg "a red fox" "blurry" "tiny"
                                                   "{\"seed\": 42, \"steps\": 3}"))))
      (layer-facts "generate" img layer)
      (parasite-fact "generate.parameters" layer)
      (save-drawable img layer (path out "generate.png")))))

(define (scenario-img2img out fix)
  (let* ((opened (open-png (string-append fix "/photo64.png")))
         (img (car opened)) (bg (cadr opened))
         (layer (car (plug-in-diffusiond-img2img RUN-NONINTERACTIVE img bg "a castle" "" "tiny" 0.6
                                                 "{\"seed\": 7, \"steps\": 4}"))))
    (layer-facts "img2img" img layer)
    (save-drawable img layer (path out "img2img.png"))
    ; With a selection: the selection's bounds of the (original) layer go, the result lands there.
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 8 8 48 40)
    (let ((cropped (car (plug-in-diffusiond-img2img RUN-NONINTERACTIVE img bg "a castle" "" "tiny" 0.6
                                                    "{\"seed\": 7, \"steps\": 4}"))))
      (layer-facts "img2img-selection" img cropped)
      (save-drawable img cropped (path out "img2img-selection.png")))))

; Model inpaint and the model-free fill, both on the selection 16,16 24x20.
(define (inpaint-on fix out name model prompt params)
  (let* ((opened (open-png (string-append fix "/photo64.png")))
         (img (car opened)) (bg (cadr opened)))
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 16 16 24 20)
    (save-composite img (path out (string-append name "-before.png")))
    (let ((layer (car (plug-in-diffusiond-inpaint RUN-NONINTERACTIVE img bg prompt "" model params))))
      (layer-facts name img layer)
      (save-drawable img layer (path out (string-append name ".png")))
      (save-composite img (path out (string-append name "-after.png"))))))

(define (scenario-inpaint out fix)
  (inpaint-on fix out "inpaint" "tiny-inpaint" "a cat" "{\"seed\": 5, \"steps\": 3}")
  (inpaint-on fix out "fill" "" "" ""))

(define (scenario-outpaint out fix)
  (let* ((opened (open-png (string-append fix "/photo64.png")))
         (img (car opened)) (bg (cadr opened))
         (layer (car (plug-in-diffusiond-outpaint RUN-NONINTERACTIVE img bg 8 0 16 8 "" "" ""))))
    (layer-facts "fill-out" img layer)
    (layer-facts "fill-out-bg" img bg)
    (save-drawable img layer (path out "fill-out.png"))
    (save-drawable img bg (path out "fill-out-bg.png")))
  (let* ((opened (open-png (string-append fix "/photo32.png")))
         (img (car opened)) (bg (cadr opened))
         (layer (car (plug-in-diffusiond-outpaint RUN-NONINTERACTIVE img bg 8 0 16 8 "a meadow" "tiny"
                                                  "{\"seed\": 3, \"steps\": 3, \"window\": 64}"))))
    (layer-facts "outpaint" img layer)
    (layer-facts "outpaint-bg" img bg)
    (save-drawable img layer (path out "outpaint.png"))))

(define (scenario-upscale out fix)
  (let* ((opened (open-png (string-append fix "/photo32.png")))
         (img (car opened)) (bg (cadr opened))
         (layer (car (plug-in-diffusiond-upscale RUN-NONINTERACTIVE img bg "realesr-animevideov3-x2" 0 ""))))
    (layer-facts "upscale" img layer)
    (save-drawable img layer (path out "upscale.png")))
  (let* ((opened (open-png (string-append fix "/photo32.png")))
         (img (car opened)) (bg (cadr opened))
         (layer (car (plug-in-diffusiond-upscale RUN-NONINTERACTIVE img bg "lanczos3" 1.5 ""))))
    (layer-facts "lanczos" img layer)
    (save-drawable img layer (path out "lanczos.png"))
    ; The last values (lanczos3 at 1.5) come back with RUN-WITH-LAST-VALS, whatever the arguments say.
    (let ((again (car (plug-in-diffusiond-upscale RUN-WITH-LAST-VALS img (car (gimp-image-get-active-layer img))
                                                  "" 0 ""))))
      (layer-facts "last-values" img again))))

(define (scenario-call out fix)
  (fact "call.models" (car (plug-in-diffusiond-call RUN-NONINTERACTIVE "models.list" "")))
  (fact "call.ping" (car (plug-in-diffusiond-call RUN-NONINTERACTIVE "ping" ""))))

; Error scenarios: each its own -b command, so each failure is reported on its own.
(define (white-image w h)
  (let* ((img (car (gimp-image-new w h RGB)))
         (bg (car (gimp-layer-new img w h RGB-IMAGE "bg" 100 LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer img bg 0 0)
    (gimp-drawable-fill bg FILL-WHITE)
    (list img bg)))

(define (error-unknown-model)
  (let ((i (white-image 32 32)))
    (plug-in-diffusiond-generate RUN-NONINTERACTIVE (car i) (cadr i) "x" "" "no-such-model" "{\"steps\": 2}")))

(define (error-bad-params)
  (let ((i (white-image 32 32)))
    (plug-in-diffusiond-generate RUN-NONINTERACTIVE (car i) (cadr i) "x" "" "tiny" "{\"steps\": 0}")))

(define (error-no-selection)
  (let ((i (white-image 32 32)))
    (plug-in-diffusiond-inpaint RUN-NONINTERACTIVE (car i) (cadr i) "" "" "" "")))

(define (error-params-json)
  (let ((i (white-image 32 32)))
    (plug-in-diffusiond-generate RUN-NONINTERACTIVE (car i) (cadr i) "x" "" "tiny" "[1, 2]")))

(define (error-grey-image)
  (let* ((img (car (gimp-image-new 16 16 GRAY)))
         (bg (car (gimp-layer-new img 16 16 GRAY-IMAGE "bg" 100 LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer img bg 0 0)
    (plug-in-diffusiond-upscale RUN-NONINTERACTIVE img bg "lanczos3" 2 "")))

(define (error-layers-after out fix)
  ; After a failed job the image is untouched: still one layer, same size.
  (let ((i (white-image 32 32)))
    (catch #f (plug-in-diffusiond-generate RUN-NONINTERACTIVE (car i) (cadr i) "x" "" "no-such-model" ""))
    (layer-facts "after-error" (car i) (cadr i))))

; A long job whose plug-in process dies mid-job (scripts/test_gimp.sh kills it, as GIMP does when the user
; cancels the progress): the image must stay as it was.
(define (scenario-cancel out fix)
  (let ((i (white-image 64 64)))
    (catch #f (plug-in-diffusiond-generate RUN-NONINTERACTIVE (car i) (cadr i) "a long job" "" "tiny"
                                           "{\"steps\": 1000, \"seed\": 1}"))
    (layer-facts "cancel" (car i) (cadr i))))

; A 16-bit image whose samples are off the 8-bit grid: its pixels travel as a 16-bit PNG and the daemon's 16-bit
; result lands at 16 bits, so the layer equals the daemon's own output for the image's 16-bit PNG (an 8-bit trip
; would round both ways). The same for a 32-bit float image, whose pixels travel at 16 bits too.
(define (scenario-precision out fix)
  (let* ((opened (open-png (string-append fix "/photo32.png")))
         (img (car opened)) (bg (cadr opened)))
    (gimp-image-convert-precision img PRECISION-U16-GAMMA)
    (gimp-drawable-levels bg HISTOGRAM-VALUE 0.0 1.0 TRUE 1.37 0.0 1.0 TRUE)  ; samples off the 8-bit grid
    (save-drawable img bg (path out "precision-source.png"))
    (let ((layer (car (plug-in-diffusiond-upscale RUN-NONINTERACTIVE img bg "lanczos3" 2 ""))))
      (fact "precision.bits" (num (car (gimp-image-get-precision img))))
      (layer-facts "precision" img layer)
      (save-drawable img layer (path out "precision.png"))))
  (let* ((opened (open-png (string-append fix "/photo32.png")))
         (img (car opened)) (bg (cadr opened)))
    (gimp-image-convert-precision img PRECISION-FLOAT-GAMMA)
    (gimp-drawable-levels bg HISTOGRAM-VALUE 0.0 1.0 TRUE 0.71 0.0 1.0 TRUE)
    (let ((copy (car (gimp-image-duplicate img))))  ; the float pixels at 16 bits: what the plug-in sends
      (gimp-image-convert-precision copy PRECISION-U16-GAMMA)
      (save-drawable copy (car (gimp-image-get-active-layer copy)) (path out "precision-float-source.png"))
      (gimp-image-delete copy))
    (let ((layer (car (plug-in-diffusiond-upscale RUN-NONINTERACTIVE img bg "lanczos3" 2 ""))))
      (fact "precision-float.bits" (num (car (gimp-image-get-precision img))))
      (layer-facts "precision-float" img layer)
      (gimp-image-convert-precision img PRECISION-U16-GAMMA)  ; exported at 16 bits
      (save-drawable img layer (path out "precision-float.png")))))

; A model inpaint of a 16-bit image: the layer (the selection's bounds) equals the daemon's own 16-bit inpaint of the
; image's 16-bit PNG, sample for sample.
(define (scenario-precision-model out fix)
  (let* ((opened (open-png (string-append fix "/photo32.png")))
         (img (car opened)) (bg (cadr opened)))
    (gimp-image-convert-precision img PRECISION-U16-GAMMA)
    (gimp-drawable-levels bg HISTOGRAM-VALUE 0.0 1.0 TRUE 1.37 0.0 1.0 TRUE)  ; samples off the 8-bit grid
    (save-drawable img bg (path out "precision-model-source.png"))
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 8 8 16 12)
    (let ((layer (car (plug-in-diffusiond-inpaint RUN-NONINTERACTIVE img bg "a cat" "" "tiny-inpaint"
                                                  "{\"seed\": 5, \"steps\": 2}"))))
      (fact "precision-model.bits" (num (car (gimp-image-get-precision img))))
      (layer-facts "precision-model" img layer)
      (save-drawable img layer (path out "precision-model.png")))))

; The interactive path (GUI GIMP under Xvfb; the dialogs press OK themselves with DIFFUSIOND_GIMP_DIALOG_TEST):
; each dialog comes up filled with the last values, so the results follow them.
(define (scenario-interactive out fix)
  (gimp-message-set-handler CONSOLE)  ; the GUI would otherwise collect the facts in message dialogs
  (let* ((opened (open-png (string-append fix "/photo32.png")))
         (img (car opened)) (bg (cadr opened)))
    (plug-in-diffusiond-upscale RUN-NONINTERACTIVE img bg "lanczos3" 1.5 "")
    (let ((layer (car (plug-in-diffusiond-upscale RUN-INTERACTIVE img bg "" 0 ""))))
      (layer-facts "dialog-upscale" img layer)))
  (let ((i (white-image 64 48)))
    (plug-in-diffusiond-generate RUN-NONINTERACTIVE (car i) (cadr i) "a dialog fox" "" "tiny"
                                 "{\"seed\": 11, \"steps\": 2, \"width\": 32, \"height\": 32}")
    (let ((layer (car (plug-in-diffusiond-generate RUN-INTERACTIVE (car i) (cadr i) "" "" "" ""))))
      (layer-facts "dialog-generate" (car i) layer)
      (save-drawable (car i) layer (path out "dialog-generate.png"))))
  ; The img2img dialog with a ControlNet (DIFFUSIOND_GIMP_DIALOG_CONTROL picks it, the layer "control" as its
  ; image, and its weight, start, end and preprocessor); then Repeat (last values) sends the same request.
  (let* ((opened (open-png (string-append fix "/photo32.png")))
         (img (car opened)) (bg (cadr opened))
         (ctl (car (gimp-layer-new img 32 32 RGB-IMAGE "control" 100 LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer img ctl 0 -1)
    (gimp-drawable-fill ctl FILL-WHITE)
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 6 10 14 16)
    (gimp-context-set-foreground '(0 0 0))
    (gimp-drawable-edit-fill ctl FILL-FOREGROUND)
    (gimp-selection-none img)
    (gimp-item-set-visible ctl FALSE)
    (gimp-image-set-active-layer img bg)
    (save-drawable img ctl (path out "dialog-control-image.png"))
    (plug-in-diffusiond-img2img RUN-NONINTERACTIVE img bg "a dialog castle" "" "tiny" 0.8
                                "{\"seed\": 13, \"steps\": 5}")
    (let ((layer (car (plug-in-diffusiond-img2img RUN-INTERACTIVE img bg "" "" "" 0 ""))))
      (layer-facts "dialog-control" img layer)
      (save-drawable img layer (path out "dialog-control.png")))
    (let ((again (car (plug-in-diffusiond-img2img RUN-WITH-LAST-VALS img bg "" "" "" 0 ""))))
      (layer-facts "dialog-control-again" img again)
      (save-drawable img again (path out "dialog-control-again.png")))))

; The preview window's Cancel (GUI GIMP under Xvfb; DIFFUSIOND_GIMP_PREVIEW_TEST_CANCEL presses it once the first
; preview is shown): the long job ends (-32800 on the daemon), the procedure returns cancelled, the image is as
; it was. The dialog's last values come from a run on a grey image, which the plug-in refuses before any job.
(define (scenario-preview-cancel out fix)
  (gimp-message-set-handler CONSOLE)
  (let* ((grey (car (gimp-image-new 16 16 GRAY)))
         (grey-bg (car (gimp-layer-new grey 16 16 GRAY-IMAGE "bg" 100 LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer grey grey-bg 0 0)
    (catch #f (plug-in-diffusiond-generate RUN-NONINTERACTIVE grey grey-bg "a long job" "" "tiny"
                                           "{\"steps\": 1000, \"seed\": 1}")))
  (let ((i (white-image 64 64)))
    ; Script-Fu raises an error for a failed procedure; one that returns only its status gives (#t) when it
    ; succeeded, else (#f): without an error that is GIMP_PDB_CANCEL
    (fact "preview-cancel.outcome"
          (catch "failed"
                 (let ((returned (plug-in-diffusiond-generate RUN-INTERACTIVE (car i) (cadr i) "" "" "" "")))
                   (if (and (pair? returned) (eq? (car returned) #f)) "cancelled" "finished"))))
    (layer-facts "preview-cancel" (car i) (cadr i))))

(define (error-long-prompt)
  (let ((i (white-image 32 32)))
    (plug-in-diffusiond-generate RUN-NONINTERACTIVE (car i) (cadr i) (make-string 9000 #\a) "" "tiny" "")))

; A 16-bit inpaint: the layer's pixels the mask leaves alone (the corners of an
; ellipse's bounding box) equal the 16-bit original bit for bit.
(define (same-pixel? a b n)
  (let loop ((i 0)) (cond ((= i n) #t) ((= (aref a i) (aref b i)) (loop (+ i 1))) (else #f))))

(define (scenario-precision-inpaint out fix)
  (let* ((opened (open-png (string-append fix "/photo32.png")))
         (img (car opened)) (bg (cadr opened)))
    (gimp-image-convert-precision img PRECISION-U16-GAMMA)
    (gimp-drawable-levels bg HISTOGRAM-VALUE 0.0 1.0 TRUE 1.37 0.0 1.0 TRUE)  ; samples off the 8-bit grid
    (gimp-image-select-ellipse img CHANNEL-OP-REPLACE 8 8 16 12)
    (let* ((layer (car (plug-in-diffusiond-inpaint RUN-NONINTERACTIVE img bg "" "" "" "{\"fill\": \"edge\"}")))
           (offsets (gimp-drawable-offsets layer))
           (w (car (gimp-drawable-width layer))) (h (car (gimp-drawable-height layer)))
           (kept 0) (lost 0) (changed 0) (off-grid 0))
      (do ((y 0 (+ y 1))) ((= y h))
        (do ((x 0 (+ x 1))) ((= x w))
          (let* ((ix (+ x (car offsets))) (iy (+ y (cadr offsets)))
                 (mine (cadr (gimp-drawable-get-pixel layer x y)))
                 (theirs (cadr (gimp-drawable-get-pixel bg ix iy))))
            (if (not (= (aref theirs 0) (aref theirs 1))) (set! off-grid (+ off-grid 1)))
            (if (= (car (gimp-selection-value img ix iy)) 0)
                (if (same-pixel? mine theirs 6) (set! kept (+ kept 1)) (set! lost (+ lost 1)))
                (if (not (same-pixel? mine theirs 6)) (set! changed (+ changed 1)))))))
      (fact "precision-inpaint.bits" (num (car (gimp-image-get-precision img))))
      (fact "precision-inpaint.kept" (num kept))
      (fact "precision-inpaint.lost" (num lost))
      (fact "precision-inpaint.changed" (num changed))
      (fact "precision-inpaint.off-grid" (num off-grid))
      (layer-facts "precision-inpaint" img layer))))

; Queued behind another client's long job (scripts/test_gimp.sh starts it and ends it once the plug-in reports its
; queue position): the job then runs and its layer lands.
(define (scenario-queued out fix)
  (let* ((i (white-image 32 32))
         (layer (car (plug-in-diffusiond-generate RUN-NONINTERACTIVE (car i) (cadr i) "a queued fox" "" "tiny"
                                                  "{\"seed\": 3, \"steps\": 2}"))))
    (layer-facts "queued" (car i) layer)))
