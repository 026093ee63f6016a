from django.contrib import admin

from .models import JobChunk, JobRun


class JobChunkInline(admin.TabularInline):
    model = JobChunk
    fields = ["first_id", "last_id", "status", "counts", "finished_at", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["job", "as_of", "status", "started_at", "finished_at", "chunks_total", "counts"]
    list_filter = ["job", "status"]
    date_hierarchy = "as_of"
    ordering = ["-started_at"]
    show_full_result_count = False
    inlines = [JobChunkInline]
    readonly_fields = [
        "job",
        "as_of",
        "status",
        "chunk_size",
        "chunks_total",
        "started_at",
        "finished_at",
        "counts",
        "error",
    ]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
